"""Survey responses and their answers, with the respondent's target group and the call's id.

No personal data: scores and choices (free text is sealed in the event and never read here),
the segment the customer was in when answering, and the pseudonymous data subject. An erasure
therefore changes nothing in this projection, and a replay gives the same NPS and CSAT. The
path of the call (agent, escalation step, wait) is joined at query time from the call facts by
`call_id`, so it is complete whichever of the two projections reads its events first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from callcenter_events import Envelope
from callcenter_events.models import QuestionType, SurveyAnswered, SurveyDefined
from callcenter_events.store import upsert
from callcenter_events.topics import SURVEYS, Topic
from sqlalchemy import JSON, Column, DateTime, Float, Index, Integer, String, Table, select
from sqlmodel import Session

from analytics.projection import METADATA, Tables

SCORED = (QuestionType.NPS, QuestionType.CSAT, QuestionType.RATING, QuestionType.YES_NO)

QUESTIONS = Table(
    "analytics_survey_questions",
    METADATA,
    Column("survey_id", String, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("question_id", String, primary_key=True),
    Column("tenant_id", String, nullable=False),
    Column("type", String, nullable=False),
    Column("topic", String),
)
RESPONSES = Table(
    "analytics_survey_responses",
    METADATA,
    Column("response_id", String, primary_key=True),
    Column("tenant_id", String, nullable=False),
    Column("survey_id", String, nullable=False),
    Column("version", Integer, nullable=False),
    Column("call_id", String),
    Column("campaign_id", String),
    Column("data_subject", String),
    Column("segment", JSON, nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=False),
    Index("ix_analytics_survey_responses_survey_id", "survey_id", "answered_at"),
)
ANSWERS = Table(
    "analytics_survey_answers",
    METADATA,
    Column("response_id", String, primary_key=True),
    Column("question_id", String, primary_key=True),
    Column("survey_id", String, nullable=False, index=True),
    Column("tenant_id", String, nullable=False),
    Column("type", String, nullable=False),
    Column("score", Float),
    Column("choices", JSON),
)
QuestionTypes = dict[tuple[str, int, str], str]


class SurveysProjection:
    name: str = "surveys"
    version: int = 2
    types: frozenset[str] = frozenset({"survey.defined", "survey.answered"})
    topics: tuple[Topic, ...] = (SURVEYS,)
    tables: tuple[Table, ...] = (QUESTIONS, RESPONSES, ANSWERS)

    def apply(self, session: Session, envelopes: Sequence[Envelope], tables: Tables) -> None:
        questions = tables[QUESTIONS.name]
        defined = [e.data for e in envelopes if isinstance(e.data, SurveyDefined)]
        rows = [_question_row(survey, q) for survey in defined for q in survey.questions]
        upsert(session, questions, rows, keys=["survey_id", "version", "question_id"])
        answered = [e for e in envelopes if isinstance(e.data, SurveyAnswered)]
        if not answered:
            return
        responses = [_response_row(e) for e in answered]
        upsert(session, tables[RESPONSES.name], responses, keys=["response_id"])
        types = _question_types(session, questions, answered)
        answers = [row for e in answered for row in _answer_rows(e.data, types)]
        upsert(session, tables[ANSWERS.name], answers, keys=["response_id", "question_id"])


def _question_row(survey: SurveyDefined, question: Any) -> dict[str, Any]:
    return {
        "survey_id": survey.survey_id,
        "version": survey.version,
        "question_id": question.id,
        "tenant_id": survey.tenant_id,
        "type": question.type.value,
        "topic": question.topic,
    }


def _response_row(envelope: Envelope) -> dict[str, Any]:
    event = envelope.data
    assert isinstance(event, SurveyAnswered)
    return {
        "response_id": event.response_id,
        "tenant_id": event.tenant_id,
        "survey_id": event.survey_id,
        "version": event.version,
        "call_id": event.call_id,
        "campaign_id": event.campaign_id,
        "data_subject": envelope.data_subject,
        "segment": event.segment,
        "answered_at": event.answered_at.astimezone(UTC),
    }


def _question_types(session: Session, questions: Table, answered: list[Envelope]) -> QuestionTypes:
    surveys = {e.data.survey_id for e in answered}  # type: ignore[attr-defined]
    found = session.execute(
        select(
            questions.c.survey_id, questions.c.version, questions.c.question_id, questions.c.type
        ).where(questions.c.survey_id.in_(surveys))
    )
    return {(row[0], row[1], row[2]): row[3] for row in found}


def _answer_rows(event: Any, types: QuestionTypes) -> list[dict[str, Any]]:
    assert isinstance(event, SurveyAnswered)
    rows = []
    for question_id, value in event.answers.items():
        kind = types.get((event.survey_id, event.version, question_id))
        if kind is None:
            continue  # a question of a version this projection never saw defined
        rows.append(
            {
                "response_id": event.response_id,
                "question_id": question_id,
                "survey_id": event.survey_id,
                "tenant_id": event.tenant_id,
                "type": kind,
                "score": _score(value) if kind in SCORED else None,
                "choices": None if kind in SCORED else _choices(value),
            }
        )
    return rows


def _score(value: object) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return float(value) if isinstance(value, int | float) else None


def _choices(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
