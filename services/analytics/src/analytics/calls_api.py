"""`GET /v1/analytics/calls`: the call KPIs per tenant, period and group, as JSON or CSV."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from callcenter_events.store import in_db_thread
from callcenter_service import AnalyticsReader, ProblemError
from callcenter_service.problems import COMMON_PROBLEMS
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from analytics.calls_kpis import FIGURES, FORMULA_VERSION
from analytics.calls_query import GROUP_COLUMNS, CallsQuery
from analytics.calls_report import calls_report
from analytics.clock import Now
from analytics.http import (
    MinPosition,
    Pages,
    TenantChoice,
    csv_response,
    group_names,
    scope,
    serving,
    time_range,
    wants_csv,
)
from analytics.periods import Interval

router = APIRouter(prefix="/v1", tags=["analytics"], responses=COMMON_PROBLEMS)
SEGMENT_GROUP = re.compile(r"^segment\.[a-z][a-z0-9_]{0,39}$")
ALLOWED = f"{', '.join(GROUP_COLUMNS)}, segment.<name>"

EXAMPLE_ROW = {
    "period_start": "2026-03-02T00:00:00+00:00",
    "tenant_id": "acme",
    "topic": "billing",
    "offered": 412,
    "answered": 371,
    "abandoned": 41,
    "short_abandoned": 9,
    "service_level": 0.8012,
    "asa_s": 14.208,
    "aht_s": 301.775,
    "abandonment_rate": 0.0796,
    "fcr_rate": 0.8421,
    "answered_within_threshold": 323,
    "completed": 366,
    "fcr_calls": 361,
    "fcr_resolved": 304,
    "outbound_calls": 0,
    "outbound_connected": 0,
}
EXAMPLE = {
    "formula_version": FORMULA_VERSION,
    "interval": "week",
    "from": "2026-03-02T00:00:00+00:00",
    "to": "2026-03-09T00:00:00+00:00",
    "as_of": "2026-03-20T08:00:00+00:00",
    "rows": [EXAMPLE_ROW],
}
CSV_EXAMPLE = (
    ",".join(["period_start", "tenant_id", "topic", *FIGURES])
    + "\n"
    + ",".join(str(EXAMPLE_ROW[name]) for name in ["period_start", "tenant_id", "topic", *FIGURES])
    + "\n"
)


@router.get(
    "/analytics/calls",
    summary="Call KPIs per tenant, period and group (formula version calls/2)",
    responses={
        200: {
            "description": "One row per tenant, period and group value that had calls",
            "content": {
                "application/json": {"example": EXAMPLE},
                "text/csv": {"example": CSV_EXAMPLE},
            },
        }
    },
)
async def calls(
    request: Request,
    caller: AnalyticsReader,
    now: Now,
    pages: Pages,
    from_: Annotated[
        datetime | None,
        Query(alias="from", description="Start (inclusive), RFC 3339; default `to` - 7 days"),
    ] = None,
    to: Annotated[
        datetime | None, Query(description="End (exclusive), RFC 3339; default now")
    ] = None,
    interval: Annotated[Interval, Query(description="UTC periods; weeks start on Monday")] = (
        Interval.DAY
    ),
    group_by: Annotated[
        str,
        Query(
            description=f"Comma list of {ALLOWED}",
            openapi_examples={
                "by topic": {"value": "topic"},
                "by agent and segment": {"value": "agent,segment.region"},
            },
        ),
    ] = "",
    tenant_id: TenantChoice = None,
    min_position: MinPosition = None,
) -> Response:
    """Offered, answered and abandoned inbound calls, service level, ASA, AHT, abandonment
    rate and first contact resolution of the calls received in each period (docs/analytics.md
    defines each figure). Outbound calls count only in `outbound_calls` and
    `outbound_connected`. FCR counts a call once the 72 hours after its end have passed
    (`as_of`)."""
    await serving(request).wait_for("calls", min_position)
    start, end = _utc(*time_range(from_, to))
    query = CallsQuery(start, end, interval, _groups(group_by), scope(caller, tenant_id))
    engine = serving(request).engine
    rows = await in_db_thread(engine, calls_report, engine, query, now)
    rows, next_cursor = pages.of(request, rows)
    if wants_csv(request):
        columns = ["period_start", "tenant_id", *query.group_by, *FIGURES]
        return csv_response(rows, columns, next_cursor)
    body = {
        "formula_version": FORMULA_VERSION,
        "interval": interval.value,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "as_of": now.isoformat(),
        "rows": rows,
        "next_cursor": next_cursor,
    }
    return JSONResponse(body)


def _utc(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The range in UTC, the time of the stored facts and of the periods."""
    try:
        return start.astimezone(UTC), end.astimezone(UTC)
    except OverflowError:
        raise ProblemError(400, "`from` and `to` must lie within years 1 to 9999 in UTC.") from None


def _groups(group_by: str) -> tuple[str, ...]:
    names = group_names(group_by)
    unknown = [n for n in names if n not in GROUP_COLUMNS and not SEGMENT_GROUP.match(n)]
    if unknown:
        raise ProblemError(400, f"Cannot group by {unknown}; choose from {ALLOWED}.")
    return names
