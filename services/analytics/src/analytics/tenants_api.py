"""`GET /v1/analytics/tenants`: whose reports the caller may read, and their KPI thresholds.

From the tenant directory every instance folds from the tenants topic (the one that checks the
keys): the operator sees every tenant (the dashboard's tenant picker), a tenant's key its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callcenter_events.models import TenantCreated
from callcenter_service import AnalyticsReader, ProblemError
from callcenter_service.problems import COMMON_PROBLEMS
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from analytics.http import TenantChoice, scope

router = APIRouter(prefix="/v1", tags=["analytics"], responses=COMMON_PROBLEMS)
EXAMPLE = {
    "tenants": [
        {
            "tenant_id": "acme",
            "name": "ACME",
            "service_level_threshold_s": 20,
            "short_abandon_s": 5,
        }
    ]
}


@router.get(
    "/analytics/tenants",
    summary="The tenants the caller may read (a key: its own), with their KPI thresholds",
    responses={200: {"content": {"application/json": {"example": EXAMPLE}}}},
)
async def tenants(
    request: Request,
    caller: AnalyticsReader,
    tenant_id: TenantChoice = None,
) -> JSONResponse:
    """Id, name and the thresholds in force now: T (`service_level_threshold_s`, the service
    level counts calls answered within it) and S (`short_abandon_s`)."""
    known: Mapping[str, TenantCreated] = request.app.state.directory.directory.tenants
    return JSONResponse({"tenants": tenant_rows(known, scope(caller, tenant_id))})


def tenant_rows(known: Mapping[str, TenantCreated], tenant_id: str | None) -> list[dict[str, Any]]:
    """Every tenant by id (None), or the one named: 404 when there is none of that id."""
    if tenant_id is not None and tenant_id not in known:
        raise ProblemError(404, f"No tenant {tenant_id!r}.")
    chosen = [known[tenant_id]] if tenant_id is not None else [known[t] for t in sorted(known)]
    return [
        {
            "tenant_id": tenant.tenant_id,
            "name": tenant.name,
            "service_level_threshold_s": tenant.settings.service_level_threshold_s,
            "short_abandon_s": tenant.settings.short_abandon_s,
        }
        for tenant in chosen
    ]
