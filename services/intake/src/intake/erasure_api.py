"""Erasing a caller known by phone number (GDPR Art. 17), on the operator's word.

The erasure is an event (kept forever, with no personal data in it) naming the caller's subject
ids; then their keys are destroyed. Every sealed copy of the number, in the log and in every
projection, is unreadable from that moment and in every replay; counts and KPIs are unchanged.
Calls from that number after the erasure get a new key: new data, given after the request.
"""

from __future__ import annotations

from callcenter_events import utc_now
from callcenter_events.models import CallerErased
from callcenter_events.privacy import SubjectRef, Vault
from callcenter_service import Operator, ProblemError
from callcenter_service.fields import E164
from callcenter_service.idempotency import Claim
from callcenter_service.problems import COMMON_PROBLEMS, problem_responses
from callcenter_service.writes import ensure_ready, idempotent_write
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from intake.publishing import publish
from intake.tenants_api import TenantId

router = APIRouter(
    prefix="/v1/tenants", tags=["privacy"], responses=COMMON_PROBLEMS | problem_responses(409)
)


class CallerErasure(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"caller_phone": "+4930123456"}]}
    )

    caller_phone: E164 = Field(description="The number to erase, in E.164")


class ErasureAccepted(BaseModel):
    erasure_id: str
    subjects: int = Field(description="How many keys of this caller were destroyed")
    position: str


@router.post("/{tenant_id}/erasures", status_code=202, response_model=ErasureAccepted)
async def erase_caller(
    tenant_id: TenantId, body: CallerErasure, request: Request, operator: Operator
) -> ErasureAccepted | JSONResponse:
    """Erase everything the platform holds about the caller with this number (operator only).

    The number travels in the body, never in a URL, so no access log ever holds it.
    """
    ensure_ready(request)
    if tenant_id not in request.app.state.directory.directory.tenants:
        raise ProblemError(404, f"No tenant {tenant_id!r}.")

    async def write(claim: Claim) -> ErasureAccepted:
        return await _erase(request, tenant_id, body.caller_phone, claim)

    return await idempotent_write(request, operator, 202, write)  # type: ignore[return-value]


async def _erase(request: Request, tenant_id: str, phone: str, claim: Claim) -> ErasureAccepted:
    vault: Vault = request.app.state.vault
    await vault.store.refresh()  # keys another instance created a moment ago
    subject_ids = vault.subjects_of(SubjectRef(tenant_id, "phone", phone))
    event = CallerErased(
        erasure_id=claim.derived_id("erasure"),
        tenant_id=tenant_id,
        subject_ids=subject_ids,
        requested_by="operator",
        erased_at=utc_now(),
    )
    position = await publish(request, event, event_id=claim.derived_id("caller.erased"))
    await vault.erase(subject_ids)
    return ErasureAccepted(
        erasure_id=event.erasure_id, subjects=len(subject_ids), position=str(position)
    )
