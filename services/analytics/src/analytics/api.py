"""Analytics' query API: call counts per period and group, as JSON or CSV; projection status."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from callcenter_events.store import in_db_thread
from callcenter_service import AnalyticsReader, Principal, ProblemError
from callcenter_service.problems import COMMON_PROBLEMS
from callcenter_service.projection import ProjectionRunner
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from analytics.periods import Interval
from analytics.queries import FORMULA_VERSION, GROUPS, CallsQuery, calls_report
from analytics.survey_queries import (
    SURVEY_FORMULA_VERSION,
    SurveyQuery,
    survey_known,
    survey_report,
)

router = APIRouter(prefix="/v1", tags=["analytics"], responses=COMMON_PROBLEMS)
MAX_RANGE = timedelta(days=400)


@router.get("/analytics/calls")
async def calls(
    request: Request,
    caller: AnalyticsReader,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    interval: Interval = Interval.DAY,
    group_by: str = "",
    tenant_id: str | None = None,
    min_position: Annotated[
        str | None, Query(description="wait until this write is projected")
    ] = None,
) -> Response:
    """Offered calls per tenant and period (UTC), optionally grouped by topic and language."""
    runner: ProjectionRunner = request.app.state.runners["calls"]
    await runner.wait_for(min_position)
    query = _calls_query(from_, to, interval, group_by, _scope(caller, tenant_id))
    rows = await in_db_thread(runner.store.engine, calls_report, runner.store.engine, query)
    if "text/csv" in request.headers.get("accept", ""):
        return _csv(rows, ["period_start", "tenant_id", *query.group_by, "offered"])
    return JSONResponse(
        {
            "formula_version": FORMULA_VERSION,
            "interval": query.interval.value,
            "from": query.start.isoformat(),
            "to": query.end.isoformat(),
            "rows": rows,
        }
    )


@router.get("/analytics/surveys/{survey_id}")
async def surveys(
    survey_id: Annotated[str, Path(max_length=64)],
    request: Request,
    caller: AnalyticsReader,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    group_by: Annotated[
        str, Query(description="Comma list of `question` and `segment.<attribute>`")
    ] = "",
    tenant_id: str | None = None,
    min_position: Annotated[
        str | None, Query(description="wait until this write is projected")
    ] = None,
) -> Response:
    """NPS and CSAT of a survey's answers, by question and target-group attribute."""
    runner: ProjectionRunner = request.app.state.runners["surveys"]
    await runner.wait_for(min_position)
    engine = runner.store.engine
    query = _survey_query(survey_id, from_, to, group_by, _scope(caller, tenant_id))
    if not await in_db_thread(engine, survey_known, engine, survey_id, query.tenant_id):
        raise ProblemError(404, f"No survey {survey_id!r}.")
    rows = await in_db_thread(engine, survey_report, engine, query)
    if "text/csv" in request.headers.get("accept", ""):
        return _csv(rows, [*query.group_by, *SURVEY_FIGURES])
    body = {"formula_version": SURVEY_FORMULA_VERSION, "survey_id": survey_id, "rows": rows}
    return JSONResponse(body)


@router.get("/projections")
async def projections(request: Request, _who: AnalyticsReader) -> dict[str, Any]:
    runners: dict[str, ProjectionRunner] = request.app.state.runners
    return {"projections": [await asyncio.to_thread(r.status) for r in runners.values()]}


def _calls_query(
    start: datetime | None,
    end: datetime | None,
    interval: Interval,
    group_by: str,
    tenant: str | None,
) -> CallsQuery:
    end = _aware(end) if end else datetime.now(UTC)
    start = _aware(start) if start else end - timedelta(days=7)
    if start >= end:
        raise ProblemError(400, "`from` must be before `to`.")
    if end - start > MAX_RANGE:
        raise ProblemError(400, f"The range may span at most {MAX_RANGE.days} days.")
    groups = tuple(name.strip() for name in group_by.split(",") if name.strip())
    unknown = [name for name in groups if name not in GROUPS]
    if unknown:
        raise ProblemError(400, f"Cannot group by {unknown}; choose from {list(GROUPS)}.")
    return CallsQuery(start, end, interval, tuple(dict.fromkeys(groups)), tenant)


SURVEY_FIGURES = ("responses", "nps_answers", "nps", "csat_answers", "csat", "csat_mean")
SEGMENT_NAME = re.compile(r"^segment\.[a-z][a-z0-9_]{0,39}$")


def _survey_query(
    survey_id: str,
    start: datetime | None,
    end: datetime | None,
    group_by: str,
    tenant: str | None,
) -> SurveyQuery:
    start, end = (_aware(start) if start else None), (_aware(end) if end else None)
    if start is not None and end is not None and start >= end:
        raise ProblemError(400, "`from` must be before `to`.")
    groups = tuple(dict.fromkeys(name.strip() for name in group_by.split(",") if name.strip()))
    unknown = [g for g in groups if g != "question" and not SEGMENT_NAME.match(g)]
    if unknown:
        raise ProblemError(400, f"Cannot group by {unknown}; use `question`, `segment.<name>`.")
    return SurveyQuery(survey_id, tenant, start, end, groups)


def _scope(caller: Principal, tenant_id: str | None) -> str | None:
    """A tenant's key reads its own tenant only; the operator reads one tenant or all."""
    if caller.tenant_id is None:
        return tenant_id
    if tenant_id not in (None, caller.tenant_id):
        raise ProblemError(404, f"No tenant {tenant_id!r}.")
    return caller.tenant_id


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ProblemError(400, "Times need an offset (RFC 3339), e.g. 2026-01-31T00:00:00Z.")
    return moment


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8")
