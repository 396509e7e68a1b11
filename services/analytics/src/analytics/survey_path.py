"""A survey's answers with the path of the call they followed: campaign, agent, step, wait.

The path comes from the call facts (`analytics_calls`), joined by the response's `call_id`
within the same tenant; it is read only when the report groups by it. The campaign is the
response's own (`survey.answered` names it) or else the call's.

Wait bands, by wait = connected_at - received_at in seconds (lower bound included):
`0-20`, `20-60`, `60-180`, `>180`; null when the call is unknown or was never connected.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, select
from sqlalchemy.sql import ColumnElement, Select

from analytics.call_path import CALLS, utc, utc_or_none
from analytics.projections.surveys import ANSWERS, QUESTIONS, RESPONSES

PATH_GROUPS = frozenset({"campaign", "agent", "step", "wait"})
WAIT_BANDS: tuple[tuple[float, str], ...] = ((20, "0-20"), (60, "20-60"), (180, "60-180"))
LAST_BAND = ">180"


@dataclass(frozen=True, slots=True)
class SurveyQuery:
    survey_id: str
    tenant_id: str | None
    start: datetime | None
    end: datetime | None
    group_by: tuple[str, ...]

    @property
    def needs_path(self) -> bool:
        return not PATH_GROUPS.isdisjoint(self.group_by)


@dataclass(frozen=True, slots=True)
class PathAnswer:
    """One answer to one question, and what is known of the call it followed."""

    response_id: str
    question_id: str
    type: str
    score: float | None
    segment: dict[str, Any]
    campaign_id: str | None = None
    agent_id: str | None = None
    step: int | None = None
    wait_band: str | None = None


def survey_known(engine: Engine, survey_id: str, tenant_id: str | None) -> bool:
    statement = select(QUESTIONS.c.survey_id).where(QUESTIONS.c.survey_id == survey_id)
    if tenant_id is not None:
        statement = statement.where(QUESTIONS.c.tenant_id == tenant_id)
    with engine.connect() as connection:
        return connection.execute(statement.limit(1)).first() is not None


def path_answers(engine: Engine, query: SurveyQuery) -> list[PathAnswer]:
    with engine.connect() as connection:
        return [_answer(row, query.needs_path) for row in connection.execute(_statement(query))]


def wait_band(received_at: datetime | None, connected_at: datetime | None) -> str | None:
    if received_at is None or connected_at is None:
        return None
    wait = (connected_at - received_at).total_seconds()
    return next((label for upper, label in WAIT_BANDS if wait < upper), LAST_BAND)


def _statement(query: SurveyQuery) -> Select[Any]:
    answer = ANSWERS.c
    columns: list[ColumnElement[Any]] = [answer.response_id, answer.question_id, answer.type]
    columns += [answer.score, RESPONSES.c.segment, RESPONSES.c.campaign_id]
    joined = ANSWERS.join(RESPONSES, RESPONSES.c.response_id == ANSWERS.c.response_id)
    if query.needs_path:
        path = [CALLS.c.agent_id, CALLS.c.step, CALLS.c.received_at, CALLS.c.connected_at]
        columns += [*path, CALLS.c.campaign_id.label("call_campaign_id")]
        joined = joined.outerjoin(
            CALLS,
            and_(
                CALLS.c.call_id == RESPONSES.c.call_id, CALLS.c.tenant_id == RESPONSES.c.tenant_id
            ),
        )
    statement = select(*columns).select_from(joined).where(ANSWERS.c.survey_id == query.survey_id)
    if query.tenant_id is not None:
        statement = statement.where(ANSWERS.c.tenant_id == query.tenant_id)
    if query.start is not None:
        statement = statement.where(RESPONSES.c.answered_at >= utc(query.start))
    if query.end is not None:
        statement = statement.where(RESPONSES.c.answered_at < utc(query.end))
    return statement


def _answer(row: Any, with_path: bool) -> PathAnswer:
    answer = PathAnswer(
        row.response_id, row.question_id, row.type, row.score, row.segment or {}, row.campaign_id
    )
    if not with_path:
        return answer
    return replace(
        answer,
        campaign_id=row.campaign_id or row.call_campaign_id,
        agent_id=row.agent_id,
        step=row.step,
        wait_band=wait_band(utc_or_none(row.received_at), utc_or_none(row.connected_at)),
    )
