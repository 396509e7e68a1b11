"""`GET /v1/analytics/realtime`: the queues now, as the projections see them.

A tenant's key sees its own queues and the agents that serve it; the operator sees all (or one
tenant's, with `tenant_id`). `min_position` waits for the projection that holds that write: the
agents projection for the agents topic, the call facts for any other.
"""

from __future__ import annotations

from typing import Annotated, Literal

from callcenter_events import Position
from callcenter_events.store import in_db_thread
from callcenter_events.topics import AGENTS
from callcenter_service import AnalyticsReader, ProblemError
from callcenter_service.problems import COMMON_PROBLEMS
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from analytics.clock import Now
from analytics.http import MinPosition, TenantChoice, csv_response, scope, serving, wants_csv
from analytics.realtime import QUEUE_COLUMNS, SKILL_COLUMNS, RealtimeQuery, realtime_report

router = APIRouter(prefix="/v1", tags=["analytics"], responses=COMMON_PROBLEMS)
EXAMPLE_QUEUE = {
    "tenant_id": "acme",
    "direction": "inbound",
    "topic": "billing",
    "language": "de",
    "waiting": 4,
    "longest_wait_s": 73.412,
    "agents_available": 2,
}
REALTIME_VERSION = "realtime/1"
EXAMPLE = {
    "formula_version": REALTIME_VERSION,
    "now": "2026-03-02T09:15:00+00:00",
    "queues": [EXAMPLE_QUEUE],
    "skills": [
        {"skill": "lang:de", "agents_available": 3},
        {"skill": "tenant:acme", "agents_available": 3},
        {"skill": "topic:billing", "agents_available": 2},
    ],
}
CSV_EXAMPLE = (
    f"{','.join(QUEUE_COLUMNS)}\n{','.join(str(EXAMPLE_QUEUE[c]) for c in QUEUE_COLUMNS)}\n"
)


@router.get(
    "/analytics/realtime",
    summary="Queues now: waiting calls, longest wait, available agents per queue and skill",
    responses={
        200: {
            "description": "The queues with waiting calls, and the available agents per skill",
            "content": {
                "application/json": {"example": EXAMPLE},
                "text/csv": {"example": CSV_EXAMPLE},
            },
        }
    },
)
async def realtime(
    request: Request,
    caller: AnalyticsReader,
    now: Now,
    tenant_id: TenantChoice = None,
    min_position: MinPosition = None,
    table: Annotated[
        Literal["queues", "skills"], Query(description="Which table a CSV answer holds")
    ] = "queues",
) -> Response:
    """Waiting calls, longest wait and available agents per queue; available agents per skill.

    CSV (`Accept: text/csv`) holds the queues, or with `table=skills` the agents per skill.
    """
    if min_position:
        await serving(request).wait_for(_projection_of(min_position), min_position)
    query = RealtimeQuery(now, scope(caller, tenant_id))
    engine = serving(request).engine
    report = await in_db_thread(engine, realtime_report, engine, query)
    if wants_csv(request):
        columns = SKILL_COLUMNS if table == "skills" else QUEUE_COLUMNS
        return csv_response(report[table], columns)
    return JSONResponse({"formula_version": REALTIME_VERSION, "now": now.isoformat(), **report})


def _projection_of(min_position: str) -> str:
    try:
        topic = Position.parse(min_position).topic
    except ValueError as exc:
        raise ProblemError(400, "`min_position` is `topic:partition:offset`.") from exc
    return "agents" if topic.endswith(AGENTS.base_name) else "calls"
