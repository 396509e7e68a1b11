"""`GET /v1/analytics/surveys`: the surveys a report can be asked for, with their questions."""

from __future__ import annotations

from callcenter_events.store import in_db_thread
from callcenter_service import AnalyticsReader
from callcenter_service.problems import COMMON_PROBLEMS
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from analytics.http import MinPosition, TenantChoice, scope, serving
from analytics.survey_catalog import SEGMENT_SAMPLE, survey_catalog

router = APIRouter(prefix="/v1", tags=["analytics"], responses=COMMON_PROBLEMS)
EXAMPLE = {
    "surveys": [
        {
            "survey_id": "sv-0f3a9c2e",
            "tenant_id": "acme",
            "version": 2,
            "questions": [
                {"question_id": "csat", "type": "csat"},
                {"question_id": "nps", "type": "nps"},
            ],
            "responses": 412,
            "segment_attributes": ["age_band", "region"],
        }
    ]
}


@router.get(
    "/analytics/surveys",
    summary="The surveys of the tenant: latest questions, responses, segment attributes",
    responses={200: {"content": {"application/json": {"example": EXAMPLE}}}},
)
async def survey_list(
    request: Request,
    caller: AnalyticsReader,
    tenant_id: TenantChoice = None,
    min_position: MinPosition = None,
) -> JSONResponse:
    """Every survey analytics has seen defined for the tenant, by id: the questions of its
    latest version (id and type), how many responses it has, and the segment attributes
    (`segment.<name>` groups of `/v1/analytics/surveys/{survey_id}`) found in its latest
    responses."""
    tenant = scope(caller, tenant_id)
    await serving(request).wait_for("surveys", min_position)
    engine = serving(request).engine
    surveys = await in_db_thread(engine, survey_catalog, engine, tenant)
    return JSONResponse({"surveys": surveys, "segment_sample": SEGMENT_SAMPLE})
