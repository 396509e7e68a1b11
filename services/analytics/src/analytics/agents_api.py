"""`GET /v1/analytics/agents`: occupancy and handling per agent and period, for the operator.

Agents work for the call center, not for one tenant (their events carry no tenant), so their
time is the operator's report: a tenant's key gets 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from callcenter_events.store import in_db_thread
from callcenter_service import Operator
from callcenter_service.problems import COMMON_PROBLEMS
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from analytics.agent_queries import (
    AGENT_COLUMNS,
    AGENTS_FORMULA_VERSION,
    AgentsQuery,
    agents_report,
)
from analytics.clock import Now
from analytics.http import MinPosition, Pages, csv_response, serving, time_range, wants_csv
from analytics.periods import Interval

router = APIRouter(prefix="/v1", tags=["analytics"], responses=COMMON_PROBLEMS)
EXAMPLE_ROW = {
    "period_start": "2026-03-02T08:00:00+00:00",
    "agent_id": "agent-17",
    "name": "Ada",
    "talk_s": 2052.0,
    "wrap_up_s": 318.5,
    "available_s": 903.25,
    "occupancy": 0.7241,
    "calls_handled": 7,
    "aht_s": 338.643,
}
EXAMPLE = {
    "formula_version": AGENTS_FORMULA_VERSION,
    "interval": "hour",
    "from": "2026-03-02T08:00:00+00:00",
    "to": "2026-03-02T12:00:00+00:00",
    "rows": [EXAMPLE_ROW],
}
CSV_EXAMPLE = f"{','.join(AGENT_COLUMNS)}\n{','.join(str(EXAMPLE_ROW[c]) for c in AGENT_COLUMNS)}\n"


@router.get(
    "/analytics/agents",
    summary="Occupancy, status time, calls handled and AHT per agent and period (agents/1)",
    responses={
        200: {
            "description": "One row per agent and period with status time or calls",
            "content": {
                "application/json": {"example": EXAMPLE},
                "text/csv": {"example": CSV_EXAMPLE},
            },
        }
    },
)
async def agents(
    request: Request,
    _operator: Operator,
    now: Now,
    pages: Pages,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    interval: Interval = Interval.DAY,
    agent_id: Annotated[str | None, Query(max_length=64)] = None,
    min_position: MinPosition = None,
) -> Response:
    """Talk, wrap-up and available time, occupancy, calls handled and AHT per agent and period.

    Time after now is not counted (a status still in force counts until now).
    """
    await serving(request).wait_for("agents", min_position)
    start, end = time_range(from_, to)
    query = AgentsQuery(start, min(end, now), interval, agent_id)
    engine = serving(request).engine
    rows = await in_db_thread(engine, agents_report, engine, query) if start < query.end else []
    rows, next_cursor = pages.of(request, rows)
    if wants_csv(request):
        return csv_response(rows, AGENT_COLUMNS, next_cursor)
    body = {
        "formula_version": AGENTS_FORMULA_VERSION,
        "interval": interval.value,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "rows": rows,
        "next_cursor": next_cursor,
    }
    return JSONResponse(body)
