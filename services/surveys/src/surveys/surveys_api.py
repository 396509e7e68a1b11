"""Surveys (versioned) and their responses, validated against the version they answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import orjson
from callcenter_events import Envelope, utc_now, wrap
from callcenter_events.models import Question, SurveyAnswered, SurveyDefined
from callcenter_events.privacy import SubjectRef, Vault
from callcenter_events.store import in_db_thread
from callcenter_service import Principal, ProblemError, SurveysReader, SurveysWriter
from callcenter_service.correlation import current_correlation_id
from callcenter_service.idempotency import Claim
from callcenter_service.problems import COMMON_PROBLEMS, problem_responses
from callcenter_service.projection import ProjectionRunner
from callcenter_service.tenancy import acting_tenant
from callcenter_service.writes import ensure_ready, idempotent_write
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from surveys.answers import check_answers
from surveys.campaignreads import campaign_of_call
from surveys.customers_api import customer_row
from surveys.survey_schemas import (
    ResponseCreate,
    ResponseCreated,
    SurveyCreate,
    SurveyCreated,
    SurveyView,
)
from surveys.surveystore import SurveyVersion, call_subject, invitation, latest_version

SOURCE = "/callcenter/surveys"
CATCH_UP_S = 2.0
router = APIRouter(
    prefix="/v1/surveys", tags=["surveys"], responses=COMMON_PROBLEMS | problem_responses(409)
)
SurveyId = Annotated[str, Path(max_length=64)]


@router.post("", status_code=201, response_model=SurveyCreated)
async def create_survey(
    body: SurveyCreate, request: Request, caller: SurveysWriter
) -> SurveyCreated | JSONResponse:
    """A new survey (version 1). Question ids must be distinct."""
    ensure_ready(request)
    tenant = await acting_tenant(request, caller, body.tenant_id)
    _distinct_ids(body)

    async def write(claim: Claim) -> SurveyCreated:
        return await _define(request, tenant, f"sv-{claim.derived_id('survey')[:13]}", 1, body)

    return await idempotent_write(request, caller, 201, write)  # type: ignore[return-value]


@router.put("/{survey_id}", response_model=SurveyCreated)
async def edit_survey(
    survey_id: SurveyId, body: SurveyCreate, request: Request, caller: SurveysWriter
) -> SurveyCreated:
    """Editing defines the next version; responses keep naming the version they answered."""
    ensure_ready(request)
    current = await _survey(request, caller, survey_id)
    _distinct_ids(body)
    return await _define(request, current.tenant_id, survey_id, current.version + 1, body)


@router.get("/{survey_id}", response_model=SurveyView)
async def get_survey(
    survey_id: SurveyId,
    request: Request,
    caller: SurveysReader,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,  # a database integer
    min_position: Annotated[str | None, Query()] = None,
) -> SurveyView:
    """The latest version, or the one asked for."""
    await _projection(request).wait_for(min_position)
    found = await _survey(request, caller, survey_id, version)
    return SurveyView.model_validate(found.model_dump())


@router.post("/{survey_id}/responses", status_code=201, response_model=ResponseCreated)
async def answer_survey(
    survey_id: SurveyId, body: ResponseCreate, request: Request, caller: SurveysWriter
) -> ResponseCreated | JSONResponse:
    """A response, checked against the survey version it answers; 422 names each bad answer.

    With `invitation_id` it answers that post-call invitation (once: 409 after), against the
    version invited to; the call of a campaign ties it to the campaign.
    """
    ensure_ready(request)
    survey = await _survey(request, caller, survey_id)
    link = await _link(request, survey, body)
    if link.version != survey.version:
        survey = await _survey(request, caller, survey_id, link.version)
    checked = check_answers([_question(q) for q in survey.questions], body.answers)
    if checked.problems:
        raise ProblemError(422, "; ".join(checked.problems), code="invalid_answers")

    async def write(claim: Claim) -> ResponseCreated:
        event = SurveyAnswered(
            response_id=link.response_id or claim.derived_id("response"),
            tenant_id=survey.tenant_id,
            survey_id=survey_id,
            version=survey.version,
            call_id=link.call_id,
            customer_ref=body.customer_ref,
            campaign_id=link.campaign_id,
            invitation_id=body.invitation_id,
            answers=checked.scores,
            text_answers=orjson.dumps(checked.texts).decode() if checked.texts else None,
            segment=await _segment(request, survey.tenant_id, body.customer_ref),
            answered_at=utc_now(),
        )
        envelope = await _sealed(request, event, link.subject, claim.derived_id("survey.answered"))
        position = await request.app.state.producer.publish(envelope)
        return ResponseCreated(
            response_id=event.response_id,
            survey_id=survey_id,
            version=survey.version,
            position=str(position),
        )

    return await idempotent_write(request, caller, 201, write)  # type: ignore[return-value]


def _distinct_ids(body: SurveyCreate) -> None:
    ids = [question.id for question in body.questions]
    if len(set(ids)) != len(ids):
        raise ProblemError(422, "Question ids must be distinct.")


async def _define(
    request: Request, tenant: str, survey_id: str, version: int, body: SurveyCreate
) -> SurveyCreated:
    event = SurveyDefined(
        survey_id=survey_id,
        tenant_id=tenant,
        version=version,
        name=body.name,
        kind=body.kind,
        questions=body.questions,
        defined_at=utc_now(),
    )
    envelope = wrap(event, source=SOURCE, correlation_id=current_correlation_id())
    position = await request.app.state.producer.publish(envelope)
    return SurveyCreated(survey_id=survey_id, version=version, position=str(position))


def _projection(request: Request) -> ProjectionRunner:
    runner: ProjectionRunner = request.app.state.surveys
    return runner


async def _survey(
    request: Request, caller: Principal, survey_id: str, version: int | None = None
) -> SurveyVersion:
    """The survey if the caller may see it; 404 alike for unknown and foreign."""
    found = await _projection(request).lookup(latest_version, survey_id, version)
    if found is None or not caller.sees(found.tenant_id):
        raise ProblemError(404, f"No survey {survey_id!r} (version {version or 'latest'}).")
    return found


def _question(raw: dict[str, object]) -> Question:
    return Question.model_validate(raw)


@dataclass(frozen=True, slots=True)
class Link:
    """Who answered, on which call, for which campaign, and which version they were asked."""

    subject: SubjectRef | str
    version: int
    call_id: str | None = None
    campaign_id: str | None = None
    response_id: str | None = None  # fixed for an invitation: a second answer counts once


async def _link(request: Request, survey: SurveyVersion, body: ResponseCreate) -> Link:
    if body.invitation_id is not None:
        return await _invited(request, survey, body)
    if body.call_id is not None:
        subject: SubjectRef | str = await _caller_of(request, survey.tenant_id, body.call_id)
        if body.customer_ref is not None:
            subject = SubjectRef(survey.tenant_id, "customer", body.customer_ref)
        campaign_id = await _campaign_of(request, survey, body.call_id)
        return Link(subject, survey.version, body.call_id, campaign_id)
    if body.customer_ref is not None:
        subject = SubjectRef(survey.tenant_id, "customer", body.customer_ref)
        return Link(subject, survey.version)
    raise ProblemError(
        422, "Name the `call_id`, the `customer_ref` or the `invitation_id` it belongs to."
    )


async def _invited(request: Request, survey: SurveyVersion, body: ResponseCreate) -> Link:
    engine = _projection(request).store.engine
    wanted = body.invitation_id or ""
    await _projection(request).catch_up(CATCH_UP_S)  # an answer given just before shows
    found = await in_db_thread(engine, invitation, engine, wanted)
    if found is None or found.tenant_id != survey.tenant_id or found.survey_id != survey.survey_id:
        raise ProblemError(404, f"No invitation {wanted!r} to this survey.")
    if found.response_id is not None:
        raise ProblemError(409, "The invitation is answered already.", code="answered")
    if body.call_id is not None and body.call_id != found.call_id:
        raise ProblemError(422, "`call_id` is not the call the invitation followed.")
    subject = found.data_subject or await _caller_of(request, survey.tenant_id, found.call_id)
    return Link(subject, found.version, found.call_id, response_id=f"{wanted}.response")


async def _caller_of(request: Request, tenant: str, call_id: str) -> str:
    """The data subject of the call's caller; 404 for a call unknown to this tenant."""
    call = await _projection(request).lookup(call_subject, call_id)
    if call is None or call.tenant_id != tenant or call.data_subject is None:
        raise ProblemError(404, f"No call {call_id!r}.")
    return call.data_subject


async def _campaign_of(request: Request, survey: SurveyVersion, call_id: str) -> str | None:
    """The campaign that placed the call, if it asks this survey.

    The campaigns projection may not have read the dialer's request yet (the agent answers
    while the call is fresh): a call not found there is looked up again after a catch-up.
    """
    runner: ProjectionRunner = request.app.state.campaigns
    placed = await runner.lookup(campaign_of_call, call_id)
    if placed is None or placed.survey_id != survey.survey_id:
        return None
    return placed.campaign_id


async def _segment(request: Request, tenant: str, customer_ref: str | None) -> dict[str, object]:
    if customer_ref is None:
        return {}
    customer = await customer_row(request, tenant, customer_ref)
    return dict(customer.segment) if customer is not None else {}


async def _sealed(
    request: Request, event: SurveyAnswered, subject: SubjectRef | str, event_id: str
) -> Envelope:
    vault: Vault = request.app.state.vault
    sealed, subject_id = await vault.seal_event(event, subject)
    return wrap(
        sealed,
        source=SOURCE,
        correlation_id=current_correlation_id(),
        data_subject=subject_id if subject_id else (subject if isinstance(subject, str) else None),
        event_id=event_id,
    )
