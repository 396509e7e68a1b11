"""Intake's HTTP API: report calls. Each write answers with the log position of its event."""

from __future__ import annotations

from callcenter_events import utc_now
from callcenter_events.models import CallReceived
from callcenter_events.privacy import SubjectRef, Vault
from callcenter_service import CallsWriter, Principal
from callcenter_service.idempotency import Claim
from callcenter_service.problems import COMMON_PROBLEMS, problem_responses
from callcenter_service.tenancy import acting_tenant
from callcenter_service.writes import ensure_ready, idempotent_write
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from intake.publishing import publish
from intake.schemas import Accepted, CallCreate

router = APIRouter(prefix="/v1", tags=["calls"], responses=COMMON_PROBLEMS | problem_responses(409))


@router.post("/calls", status_code=202, response_model=Accepted)
async def report_call(
    body: CallCreate, request: Request, caller: CallsWriter
) -> Accepted | JSONResponse:
    """An inbound call arrived; routing queues it once `call.received` is in the log.

    Safe to retry with the same `Idempotency-Key`: the call is reported once.
    """
    ensure_ready(request)

    async def write(claim: Claim) -> Accepted:
        return await _report(request, caller, body, claim)

    return await idempotent_write(request, caller, 202, write)  # type: ignore[return-value]


async def _report(request: Request, caller: Principal, body: CallCreate, claim: Claim) -> Accepted:
    event = CallReceived(
        call_id=claim.derived_id("call"),
        tenant_id=await acting_tenant(request, caller, body.tenant_id),
        caller_phone=body.caller_phone,
        customer_ref=body.customer_ref,
        language=body.language,
        topic=body.topic,
        priority=body.priority,
        required_skills=body.required_skills,
        received_at=utc_now(),
    )
    sealed, subject_id = await _seal(request, event)
    position = await publish(
        request, sealed, event_id=claim.derived_id("call.received"), data_subject=subject_id
    )
    return Accepted(call_id=event.call_id, position=str(position))


async def _seal(request: Request, event: CallReceived) -> tuple[CallReceived, str | None]:
    """A known customer's call is about the customer; the number belongs to its holder."""
    vault: Vault = request.app.state.vault
    phone = SubjectRef(event.tenant_id, "phone", event.caller_phone) if event.caller_phone else None
    if event.customer_ref is None:
        return await vault.seal_event(event, phone) if phone else (event, None)
    customer = SubjectRef(event.tenant_id, "customer", event.customer_ref)
    overrides: dict[str, SubjectRef | str] = {"caller_phone": phone} if phone else {}
    return await vault.seal_event(event, customer, overrides=overrides)
