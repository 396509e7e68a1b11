"""`POST /v1/customers/import`: a tenant's customer list, CSV or NDJSON, streamed."""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any, Final

import structlog
from callcenter_events.privacy import SubjectRef, Vault
from callcenter_events.store import in_db_thread
from callcenter_service import ProblemError, SurveysWriter
from callcenter_service.problems import COMMON_PROBLEMS, problem_responses
from callcenter_service.projection import ProjectionRunner
from callcenter_service.tenancy import acting_tenant
from callcenter_service.writes import ensure_ready
from fastapi import APIRouter, Request
from starlette.requests import ClientDisconnect

from surveys.customer_events import CustomerWriter, recorded_by
from surveys.customer_import import ConsentLookup, CustomerImport
from surveys.customers_api import TenantId
from surveys.customerstore import customers_of
from surveys.import_rows import HeaderError, parse_rows, parser_for
from surveys.import_schemas import ImportReport

IMPORT_PATH: Final = "/v1/customers/import"
log = structlog.get_logger(__name__)
router = APIRouter(
    prefix="/v1/customers", tags=["customers"], responses=COMMON_PROBLEMS | problem_responses(415)
)

CSV_EXAMPLE: Final = (
    "customer_ref,phone,language,timezone,name,segment.age_band,segment.products,"
    "consent.marketing_calls,consent.source,consent.at\n"
    "crm-1,+4930123456,de,Europe/Berlin,Anna Beispiel,30-39,dsl|tv,yes,web-form,"
    "2026-03-01T10:00:00Z\n"
    "crm-2,+4940987654,de,Europe/Berlin,,50-59,dsl,,,\n"
)
NDJSON_EXAMPLE: Final = (
    '{"customer_ref": "crm-1", "phone": "+4930123456", "language": "de", '
    '"timezone": "Europe/Berlin", "name": "Anna Beispiel", "segment": {"age_band": "30-39", '
    '"products": ["dsl", "tv"]}, "consent": {"marketing_calls": true, "source": "web-form", '
    '"at": "2026-03-01T10:00:00Z"}}\n'
    '{"customer_ref": "crm-2", "phone": "+4940987654", "language": "de", '
    '"timezone": "Europe/Berlin", "segment": {"age_band": "50-59", "products": ["dsl"]}}\n'
)
BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": "The list: `text/csv` (a header row, then one customer per row) or "
        "`application/x-ndjson` (also `application/ndjson`: one JSON object per line), UTF-8. "
        "Each row is what `PUT /v1/customers/{customer_ref}` takes, plus `customer_ref`.",
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "examples": {"two customers": {"value": CSV_EXAMPLE}},
            },
            "application/x-ndjson": {
                "schema": {"type": "string"},
                "examples": {"two customers": {"value": NDJSON_EXAMPLE}},
            },
        },
    }
}


@router.post("/import", response_model=ImportReport, openapi_extra=BODY)
async def import_customers(
    request: Request, caller: SurveysWriter, tenant_id: TenantId = None
) -> ImportReport:
    """Create or replace many customers from a CSV or NDJSON list, read as it streams in.

    Every good row is written as its `PUT` would be (its consent recorded only when it changes
    the customer's consent); every bad row is reported in `errors` with its problems, and the
    others are written all the same. Running the same file again is harmless. A CSV header
    without a required column (or with an unknown one) is 422, and nothing is written.
    """
    ensure_ready(request)
    tenant = await acting_tenant(request, caller, tenant_id)
    parser = parser_for(request.headers.get("content-type"))
    if parser is None:
        raise ProblemError(415, "Send the list as `text/csv` or `application/x-ndjson`, UTF-8.")
    writer = CustomerWriter(_vault(request), tenant, recorded_by(caller))
    importer = CustomerImport(writer, _consent_lookup(request, tenant), request.app.state.producer)
    started = time.perf_counter()
    try:
        report = await importer.run(parse_rows(request.stream(), parser))
    except HeaderError as exc:
        detail = "The CSV header cannot be used; nothing was imported. See `errors`."
        raise ProblemError(422, detail, errors=exc.problems) from None
    except ClientDisconnect:
        detail = "The upload broke off; rows before it may be written. Send the file again."
        raise ProblemError(400, detail) from None
    log.info(
        "customers_imported",
        import_id=report.import_id,
        tenant_id=tenant,
        rows=report.rows,
        accepted=report.accepted,
        rejected=report.rejected,
        seconds=round(time.perf_counter() - started, 3),
    )
    return report


def _consent_lookup(request: Request, tenant: str) -> ConsentLookup:
    vault = _vault(request)
    runner: ProjectionRunner = request.app.state.customers
    engine = runner.store.engine

    async def current_consent(refs: Collection[str]) -> dict[str, bool | None]:
        """The consent of each known customer, from the row written last (one query)."""
        subjects = {ref: vault.subjects_of(SubjectRef(tenant, "customer", ref)) for ref in refs}
        wanted = [subject for ids in subjects.values() for subject in ids]
        if not wanted:
            return {}
        rows = await in_db_thread(engine, customers_of, engine, tenant, wanted)
        by_subject = {row.subject_id: row for row in rows}
        current: dict[str, bool | None] = {}
        for ref, ids in subjects.items():
            found = [by_subject[subject] for subject in ids if subject in by_subject]
            if found:
                current[ref] = max(found, key=lambda row: row.updated_at).marketing_consent
        return current

    return current_consent


def _vault(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault
