"""Writing intake's events: only when connected, always answering the log position."""

from __future__ import annotations

from callcenter_events import Event, Position, wrap
from callcenter_events.producer import EventProducer
from callcenter_service.correlation import current_correlation_id
from callcenter_service.runtime import DirectoryComponent
from fastapi import Request

SOURCE = "/callcenter/intake"
OWN_WRITE_WAIT_S = 5.0


async def publish(
    request: Request,
    event: Event,
    *,
    event_id: str | None = None,
    data_subject: str | None = None,
) -> Position:
    producer: EventProducer = request.app.state.producer
    envelope = wrap(
        event,
        source=SOURCE,
        correlation_id=current_correlation_id(),
        event_id=event_id,
        data_subject=data_subject,
    )
    return await producer.publish(envelope)


async def publish_to_directory(request: Request, event: Event) -> Position:
    """Publish a tenants-topic event and wait until this instance's directory has read it."""
    position = await publish(request, event)
    directory: DirectoryComponent = request.app.state.directory
    await directory.catch_up(OWN_WRITE_WAIT_S)
    return position
