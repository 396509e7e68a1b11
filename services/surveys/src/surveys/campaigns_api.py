"""Outbound survey campaigns: create one, follow its progress, stop it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from callcenter_events import Envelope, utc_now, wrap
from callcenter_events.models import (
    CampaignCreated,
    CampaignRules,
    CampaignStopped,
    SurveyKind,
)
from callcenter_events.models.customers import SegmentValue
from callcenter_events.store import as_utc, in_db_thread
from callcenter_service import Principal, ProblemError, SurveysReader, SurveysWriter
from callcenter_service.correlation import current_correlation_id
from callcenter_service.idempotency import Claim
from callcenter_service.problems import COMMON_PROBLEMS, problem_responses
from callcenter_service.projection import ProjectionRunner
from callcenter_service.tenancy import acting_tenant
from callcenter_service.writes import ensure_ready, idempotent_write
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from surveys.campaignprogress import progress
from surveys.campaignreads import campaign
from surveys.campaigntables import Campaign
from surveys.customer_schemas import SegmentName
from surveys.dialing.eligibility import EXCLUSIONS, Standing
from surveys.surveystore import latest_version

SOURCE = "/callcenter/surveys"
router = APIRouter(
    prefix="/v1/campaigns", tags=["campaigns"], responses=COMMON_PROBLEMS | problem_responses(409)
)
CampaignId = Annotated[str, Path(max_length=64)]
OPEN = (  # standings that the dialer may still call, without anybody changing anything
    Standing.CALLABLE,
    Standing.CALLING,
    Standing.RETRYING,
    Standing.OUTSIDE_WINDOW,
    Standing.REST_PERIOD,
)


class CampaignCreate(CampaignRules):
    """The campaign's rules (as `campaign.created` records them), its survey and name."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "survey_id": "sv-4f1c2a9b0d3e7",
                    "name": "Fiber customers, spring",
                    "audience": {"region": ["north", "east"], "products": "fiber"},
                    "window": {"start": "09:00", "end": "19:00"},
                    "max_attempts": 3,
                    "retry_after_s": 7200,
                    "rest_days": 30,
                }
            ]
        },
    )

    survey_id: str = Field(max_length=64, description="A survey of kind `campaign`")
    name: str | None = Field(None, max_length=200)
    audience: dict[SegmentName, SegmentValue] = Field(
        default_factory=dict,
        max_length=20,
        description="Segment attribute: accepted value or list of values; all must match",
    )
    tenant_id: str | None = Field(None, description="The operator names the tenant")


class CampaignCreatedView(BaseModel):
    campaign_id: str
    position: str


class CampaignView(BaseModel):
    campaign_id: str
    tenant_id: str
    name: str
    survey_id: str
    state: str = Field(description="`running`, `finished` (nobody left to call) or `stopped`")
    rules: CampaignRules
    created_at: datetime
    targeted: int = Field(description="Customers the audience selected")
    excluded: dict[str, int] = Field(
        description="Not reached, not being called, and not callable now, by reason: "
        "`no_consent`, `withdrawn`, `attempt_cap`, `rest_period`, `outside_window`"
    )
    attempted: int = Field(description="Targets called at least once")
    reached: int
    completed: int = Field(description="Reached targets whose survey answers were recorded")
    calling: int = Field(description="Targets with a call requested and not yet ended")
    waiting: int = Field(description="Callable now; the dialer calls them as agents free up")
    retrying: int = Field(description="Not reached yet; the retry delay is running")


@router.post("", status_code=201, response_model=CampaignCreatedView)
async def create_campaign(
    body: CampaignCreate, request: Request, caller: SurveysWriter
) -> CampaignCreatedView | JSONResponse:
    """Start a campaign; the dialer calls its audience within the rules from now on."""
    ensure_ready(request)
    tenant = await acting_tenant(request, caller, body.tenant_id)
    await _campaign_survey(request, caller, tenant, body.survey_id)

    async def write(claim: Claim) -> CampaignCreatedView:
        event = CampaignCreated(
            campaign_id=f"cp-{claim.derived_id('campaign')[:13]}",
            tenant_id=tenant,
            name=body.name or body.survey_id,
            survey_id=body.survey_id,
            rules=CampaignRules.model_validate(
                body.model_dump(include=set(CampaignRules.model_fields))
            ),
            created_at=utc_now(),
        )
        position = await request.app.state.producer.publish(_wrap(event))
        return CampaignCreatedView(campaign_id=event.campaign_id, position=str(position))

    return await idempotent_write(request, caller, 201, write)  # type: ignore[return-value]


@router.get("/{campaign_id}", response_model=CampaignView)
async def get_campaign(
    campaign_id: CampaignId,
    request: Request,
    caller: SurveysReader,
    min_position: Annotated[str | None, Query()] = None,
) -> CampaignView:
    """The campaign's progress now: `targeted` = `reached` + `calling` + `waiting` +
    `retrying` + the sum of `excluded`; `completed` is part of `reached`."""
    await _projection(request).wait_for(min_position)
    found = await _visible(request, caller, campaign_id)
    engine = _projection(request).store.engine
    counted = await in_db_thread(engine, progress, engine, found, utc_now())
    standings = counted.standings
    return CampaignView(
        campaign_id=found.campaign_id,
        tenant_id=found.tenant_id,
        name=found.name,
        survey_id=found.survey_id,
        state=_state(found, sum(standings[s] for s in OPEN)),
        rules=found.campaign_rules(),
        created_at=as_utc(found.created_at),
        targeted=counted.targeted,
        excluded={reason.value: standings[reason] for reason in EXCLUSIONS},
        attempted=counted.attempted,
        reached=standings[Standing.REACHED],
        completed=counted.completed,
        calling=standings[Standing.CALLING],
        waiting=standings[Standing.CALLABLE],
        retrying=standings[Standing.RETRYING],
    )


@router.post("/{campaign_id}/stop", response_model=CampaignCreatedView)
async def stop_campaign(
    campaign_id: CampaignId, request: Request, caller: SurveysWriter
) -> CampaignCreatedView:
    """No further calls; calls already placed run to their end."""
    ensure_ready(request)
    found = await _visible(request, caller, campaign_id)
    if found.stopped_at is not None:
        raise ProblemError(409, "The campaign is stopped already.")
    event = CampaignStopped(
        campaign_id=campaign_id,
        tenant_id=found.tenant_id,
        reason=f"stopped by {caller.key_id or 'operator'}",
        stopped_at=utc_now(),
    )
    position = await request.app.state.producer.publish(_wrap(event))
    return CampaignCreatedView(campaign_id=campaign_id, position=str(position))


def _state(found: Campaign, open_targets: int) -> str:
    if found.stopped_at is not None:
        return "stopped"
    return "running" if open_targets > 0 else "finished"


def _wrap(event: CampaignCreated | CampaignStopped) -> Envelope:
    return wrap(event, source=SOURCE, correlation_id=current_correlation_id())


def _projection(request: Request) -> ProjectionRunner:
    runner: ProjectionRunner = request.app.state.campaigns
    return runner


async def _visible(request: Request, caller: Principal, campaign_id: str) -> Campaign:
    """The campaign if the caller may see it; 404 alike for unknown and foreign."""
    found = await _projection(request).lookup(campaign, campaign_id)
    if found is None or not caller.sees(found.tenant_id):
        raise ProblemError(404, f"No campaign {campaign_id!r}.")
    return found


async def _campaign_survey(
    request: Request, caller: Principal, tenant: str, survey_id: str
) -> None:
    runner: ProjectionRunner = request.app.state.surveys
    found = await runner.lookup(latest_version, survey_id, None)
    if found is None or found.tenant_id != tenant or not caller.sees(found.tenant_id):
        raise ProblemError(422, f"No survey {survey_id!r} of this tenant.", code="unknown_survey")
    if found.kind != SurveyKind.CAMPAIGN.value:
        raise ProblemError(422, f"Survey {survey_id!r} is not a campaign survey.")
