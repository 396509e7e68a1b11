"""Intake's HTTP API: report calls. Each write answers with the log position of its event."""

from __future__ import annotations

import uuid

from callcenter_events import Position, wrap
from callcenter_events.envelope import utc_now
from callcenter_events.models import CallReceived
from callcenter_events.producer import EventProducer
from callcenter_service import Operator, ProblemError
from callcenter_service.correlation import current_correlation_id
from fastapi import APIRouter, Request

from intake.schemas import Accepted, CallCreate

router = APIRouter(prefix="/v1", tags=["calls"])
SOURCE = "/callcenter/intake"


@router.post("/calls", status_code=202, response_model=Accepted)
async def report_call(body: CallCreate, request: Request, _who: Operator) -> Accepted:
    """An inbound call arrived; routing queues it once `call.received` is in the log."""
    event = CallReceived(
        call_id=str(uuid.uuid4()),
        tenant_id=body.tenant_id,
        caller_phone=body.caller_phone,
        customer_ref=body.customer_ref,
        language=body.language,
        topic=body.topic,
        priority=body.priority,
        required_skills=body.required_skills,
        received_at=utc_now(),
    )
    position = await _publish(request, event)
    return Accepted(call_id=event.call_id, position=str(position))


async def _publish(request: Request, event: CallReceived) -> Position:
    producer: EventProducer = request.app.state.producer
    if not request.app.state.runtime.readiness().get("producer"):
        raise ProblemError(503, "Not connected to Kafka yet.", headers={"Retry-After": "1"})
    envelope = wrap(event, source=SOURCE, correlation_id=current_correlation_id())
    return await producer.publish(envelope)
