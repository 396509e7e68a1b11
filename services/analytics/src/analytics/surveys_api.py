"""`GET /v1/analytics/surveys/{survey_id}`: NPS and CSAT by question, target group and call path.

A survey of another tenant (or none at all) is 404 for a tenant's key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from callcenter_events.store import in_db_thread
from callcenter_service import AnalyticsReader, ProblemError
from callcenter_service.problems import COMMON_PROBLEMS
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from analytics.http import (
    MinPosition,
    Pages,
    TenantChoice,
    aware,
    csv_response,
    group_names,
    scope,
    serving,
    wants_csv,
)
from analytics.survey_path import SurveyQuery, survey_known
from analytics.survey_queries import (
    GROUPS,
    SURVEY_FIGURES,
    SURVEY_FORMULA_VERSION,
    bad_groups,
    survey_report,
)

router = APIRouter(prefix="/v1", tags=["analytics"], responses=COMMON_PROBLEMS)
GROUP_BY_HELP = (
    "Comma list of `question`, `campaign`, `agent`, `step`, `wait` (bands 0-20, 20-60, "
    "60-180, >180 s) and `segment.<attribute>`"
)

EXAMPLE_ROW = {
    "wait": "0-20",
    "agent": "agent-17",
    "responses": 41,
    "nps_answers": 40,
    "nps": 32.5,
    "csat_answers": 38,
    "csat": 0.8158,
    "csat_mean": 4.1316,
}
EXAMPLE = {
    "formula_version": SURVEY_FORMULA_VERSION,
    "survey_id": "sv-post-call",
    "group_by": ["wait", "agent"],
    "rows": [EXAMPLE_ROW],
}
CSV_EXAMPLE = f"{','.join(EXAMPLE_ROW)}\n{','.join(str(v) for v in EXAMPLE_ROW.values())}\n"


@router.get(
    "/analytics/surveys/{survey_id}",
    summary="NPS and CSAT of a survey, by question, target group and call path (surveys/2)",
    responses={
        200: {
            "description": "One row per group value that had answers",
            "content": {
                "application/json": {"example": EXAMPLE},
                "text/csv": {"example": CSV_EXAMPLE},
            },
        }
    },
)
async def surveys(
    survey_id: Annotated[str, Path(max_length=64)],
    request: Request,
    caller: AnalyticsReader,
    pages: Pages,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    group_by: Annotated[str, Query(description=GROUP_BY_HELP)] = "",
    tenant_id: TenantChoice = None,
    min_position: MinPosition = None,
) -> Response:
    """NPS and CSAT of a survey's answers (by `answered_at` in [from, to)), grouped as asked."""
    await serving(request).wait_for("surveys", min_position)
    query = _query(survey_id, from_, to, group_by, scope(caller, tenant_id))
    engine = serving(request).engine
    if not await in_db_thread(engine, survey_known, engine, survey_id, query.tenant_id):
        raise ProblemError(404, f"No survey {survey_id!r}.")
    rows = await in_db_thread(engine, survey_report, engine, query)
    rows, next_cursor = pages.of(request, rows)
    if wants_csv(request):
        return csv_response(rows, [*query.group_by, *SURVEY_FIGURES], next_cursor)
    body = {
        "formula_version": SURVEY_FORMULA_VERSION,
        "survey_id": survey_id,
        "group_by": list(query.group_by),
        "rows": rows,
        "next_cursor": next_cursor,
    }
    return JSONResponse(body)


def _query(
    survey_id: str,
    start: datetime | None,
    end: datetime | None,
    group_by: str,
    tenant: str | None,
) -> SurveyQuery:
    start, end = (aware(start) if start else None), (aware(end) if end else None)
    if start is not None and end is not None and start >= end:
        raise ProblemError(400, "`from` must be before `to`.")
    groups = group_names(group_by)
    unknown = bad_groups(groups)
    if unknown:
        raise ProblemError(400, f"Cannot group by {unknown}; use {', '.join(GROUPS)}.")
    return SurveyQuery(survey_id, tenant, start, end, groups)
