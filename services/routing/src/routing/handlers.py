"""Routing's event handlers: a received call is queued with its requirements."""

from __future__ import annotations

from callcenter_events import Batch, Envelope, EventPublisher, derived_event_id, utc_now, wrap
from callcenter_events.models import CallQueued, CallReceived

from routing.domain.requirements import requirements_of

SOURCE = "/callcenter/routing"
TYPES = frozenset({"call.received"})


class RoutingHandlers:
    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    async def handle(self, batch: Batch) -> None:
        queued = [
            self._queue(envelope)
            for envelope in batch.envelopes
            if isinstance(envelope.data, CallReceived)
        ]
        if queued:
            await self._publisher.publish_all(queued)

    @staticmethod
    def _queue(envelope: Envelope) -> Envelope:
        call = envelope.data
        assert isinstance(call, CallReceived)
        event = CallQueued(
            call_id=call.call_id,
            tenant_id=call.tenant_id,
            priority=call.priority,
            requirements=requirements_of(
                call.tenant_id, call.language, call.topic, call.required_skills
            ),
            queued_at=utc_now(),
        )
        return wrap(
            event,
            source=SOURCE,
            correlation_id=envelope.correlation_id,
            causation_id=envelope.id,
            event_id=derived_event_id(envelope.id, "call.queued"),
        )
