"""A tenant's known customers, their consent ledger, and their erasure.

The customer reference is personal data too: nothing is stored or logged under it. The vault
maps it (by a keyed hash) to the customer's pseudonymous subject id, and rows are found by that.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from callcenter_events import utc_now
from callcenter_events.models import CustomerErased
from callcenter_events.privacy import SubjectRef, Vault
from callcenter_events.store import in_db_thread
from callcenter_service import Principal, ProblemError, SurveysReader, SurveysWriter
from callcenter_service.idempotency import Claim
from callcenter_service.problems import COMMON_PROBLEMS, problem_responses
from callcenter_service.projection import ProjectionRunner
from callcenter_service.tenancy import acting_tenant
from callcenter_service.writes import ensure_ready, idempotent_write
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from surveys.customer_events import CustomerWriter, envelope_of, recorded_by
from surveys.customer_schemas import (
    ConsentHistory,
    ConsentRecord,
    ConsentStatement,
    ConsentView,
    CustomerErasure,
    CustomerPut,
    CustomerView,
    Written,
)
from surveys.customerstore import ConsentEntry, Customer, consent_history, customers_of

CATCH_UP_S = 2.0
router = APIRouter(
    prefix="/v1/customers", tags=["customers"], responses=COMMON_PROBLEMS | problem_responses(409)
)
Ref = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$", max_length=128)]
TenantId = Annotated[
    str | None, Query(description="The operator names the tenant; a key acts for its own")
]
MinPosition = Annotated[
    str | None, Query(description="Wait (up to 5 s) until the write at this position shows")
]


@router.put(
    "/{customer_ref}",
    response_model=Written,
    responses={201: {"model": Written, "description": "Created"}},
)
async def put_customer(
    customer_ref: Ref,
    body: CustomerPut,
    request: Request,
    response: Response,
    caller: SurveysWriter,
    tenant_id: TenantId = None,
) -> Written:
    """Create (201) or replace (200) a customer; a consent statement in it is recorded once."""
    ensure_ready(request)
    tenant = await acting_tenant(request, caller, tenant_id)
    existing = await _customer(request, tenant, customer_ref, wait=True)
    current_consent = existing.marketing_consent if existing else None
    writer = CustomerWriter(_vault(request), tenant, recorded_by(caller))
    envelopes = await writer.customer(customer_ref, body, current_consent=current_consent)
    positions = await request.app.state.producer.publish_all(envelopes)
    response.status_code = 200 if existing else 201
    return Written(customer_ref=customer_ref, position=str(positions[-1]))


@router.get("/{customer_ref}", response_model=CustomerView)
async def get_customer(
    customer_ref: Ref,
    request: Request,
    caller: SurveysReader,
    tenant_id: TenantId = None,
    min_position: MinPosition = None,
) -> CustomerView:
    """The customer as last written; personal values are null once erased."""
    tenant, found = await _visible(request, caller, tenant_id, customer_ref, min_position)
    vault = _vault(request)
    return CustomerView(
        customer_ref=customer_ref,
        tenant_id=tenant,
        phone=await vault.reveal(found.phone, "phone"),
        name=await vault.reveal(found.name, "name"),
        language=found.language,
        timezone=found.timezone,
        segment=found.segment,
        consent=ConsentView(marketing_calls=found.marketing_consent),
        updated_at=found.updated_at,
    )


@router.post("/{customer_ref}/consent", status_code=201, response_model=Written)
async def record_consent(
    customer_ref: Ref,
    body: ConsentStatement,
    request: Request,
    caller: SurveysWriter,
    tenant_id: TenantId = None,
) -> Written | JSONResponse:
    """Record consent given or withdrawn; a withdrawal stops further calls at once."""
    ensure_ready(request)
    tenant = await acting_tenant(request, caller, tenant_id)
    if await _customer(request, tenant, customer_ref, wait=True) is None:
        raise ProblemError(404, "No such customer.")

    writer = CustomerWriter(_vault(request), tenant, recorded_by(caller))

    async def write(claim: Claim) -> Written:
        envelope = await writer.consent(customer_ref, body, event_id=claim.derived_id("consent"))
        position = await request.app.state.producer.publish(envelope)
        return Written(customer_ref=customer_ref, position=str(position))

    return await idempotent_write(request, caller, 201, write)  # type: ignore[return-value]


@router.get("/{customer_ref}/consent", response_model=ConsentHistory)
async def get_consent(
    customer_ref: Ref,
    request: Request,
    caller: SurveysReader,
    tenant_id: TenantId = None,
    min_position: MinPosition = None,
) -> ConsentHistory:
    """Every consent statement of the customer with its provenance: the proof of consent."""
    tenant, found = await _visible(request, caller, tenant_id, customer_ref, min_position)
    engine = _projection(request).store.engine
    entries = await in_db_thread(engine, consent_history, engine, tenant, [found.subject_id])
    history = [_record(entry) for entry in entries]
    return ConsentHistory(
        customer_ref=customer_ref, current=found.marketing_consent, history=history
    )


@router.delete("/{customer_ref}", status_code=202, response_model=CustomerErasure)
async def erase_customer(
    customer_ref: Ref, request: Request, caller: SurveysWriter, tenant_id: TenantId = None
) -> CustomerErasure:
    """Erase the customer (GDPR Art. 17): their keys, and the key of their number, destroyed.

    Counts, KPIs and answers by target group stay; the reference, number, name and free-text
    answers are unreadable everywhere, in every replay.
    """
    ensure_ready(request)
    tenant = await acting_tenant(request, caller, tenant_id)
    vault = _vault(request)
    rows = await _rows(request, tenant, customer_ref, wait=True)
    if not rows:
        raise ProblemError(404, "No such customer.")
    subjects = {row.subject_id for row in rows} | {r.phone_subject for r in rows if r.phone_subject}
    event = CustomerErased(
        erasure_id=str(uuid.uuid4()),
        tenant_id=tenant,
        subject_ids=sorted(subjects),
        requested_by=recorded_by(caller),
        erased_at=utc_now(),
    )
    position = await request.app.state.producer.publish(envelope_of(event, None))
    await vault.erase(event.subject_ids)
    return CustomerErasure(
        erasure_id=event.erasure_id, subjects=len(subjects), position=str(position)
    )


async def _visible(
    request: Request,
    caller: Principal,
    tenant_id: str | None,
    ref: str,
    min_position: str | None,
) -> tuple[str, Customer]:
    """The tenant acted for and its customer; 404 alike for unknown, erased and foreign."""
    await _projection(request).wait_for(min_position)
    tenant = await acting_tenant(request, caller, tenant_id)
    found = await _customer(request, tenant, ref, wait=True)
    if found is None:
        raise ProblemError(404, "No such customer.")
    return tenant, found


def _vault(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


def _projection(request: Request) -> ProjectionRunner:
    runner: ProjectionRunner = request.app.state.customers
    return runner


async def _rows(request: Request, tenant: str, ref: str, *, wait: bool) -> list[Customer]:
    """The customer's rows (usually one), found through the subject ids of the reference."""
    vault = _vault(request)
    customer = SubjectRef(tenant, "customer", ref)
    subjects = vault.subjects_of(customer)
    if not subjects:
        await vault.store.refresh()
        subjects = vault.subjects_of(customer)
    if not subjects:
        return []
    engine = _projection(request).store.engine
    rows = await in_db_thread(engine, customers_of, engine, tenant, subjects)
    if not rows and wait and await _projection(request).catch_up(CATCH_UP_S):
        rows = await in_db_thread(engine, customers_of, engine, tenant, subjects)
    return sorted(rows, key=lambda row: row.updated_at, reverse=True)


async def _customer(
    request: Request, tenant: str, ref: str, *, wait: bool = False
) -> Customer | None:
    rows = await _rows(request, tenant, ref, wait=wait)
    return rows[0] if rows else None


async def customer_row(request: Request, tenant: str, ref: str) -> Customer | None:
    """The customer's current row, if there is one (waiting briefly for a fresh write)."""
    return await _customer(request, tenant, ref, wait=True)


def _record(entry: ConsentEntry) -> ConsentRecord:
    return ConsentRecord(
        marketing_calls=entry.granted,
        purpose=entry.purpose,
        source=entry.source,
        at=entry.at,
        wording=entry.wording,
        campaign_id=entry.campaign_id,
        recorded_at=entry.recorded_at,
        recorded_by=entry.recorded_by,
        event_id=entry.event_id,
        position=entry.position,
    )
