"""Survey answers, one row per response and question, with the respondent's target group.

No personal data: scores and choices (free text is sealed in the event and never read here),
the segment the customer was in when answering, and the pseudonymous data subject. An erasure
therefore changes nothing in this projection, and a replay gives the same NPS and CSAT.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from callcenter_events import Envelope
from callcenter_events.models import QuestionType, SurveyAnswered, SurveyDefined
from callcenter_events.store import upsert
from callcenter_events.topics import SURVEYS, Topic
from sqlalchemy import JSON, Column, Engine
from sqlmodel import Field, Session, SQLModel, col, select

SCORED = (QuestionType.NPS, QuestionType.CSAT, QuestionType.RATING, QuestionType.YES_NO)


class SurveyQuestion(SQLModel, table=True):
    __tablename__ = "analytics_survey_questions"

    survey_id: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    question_id: str = Field(primary_key=True)
    tenant_id: str
    type: str
    topic: str | None = None


class SurveyAnswer(SQLModel, table=True):
    """One answer: `score` for scored questions (yes = 1), `choice` for choices."""

    __tablename__ = "analytics_survey_answers"

    response_id: str = Field(primary_key=True)
    question_id: str = Field(primary_key=True)
    tenant_id: str = Field(index=True)
    survey_id: str = Field(index=True)
    version: int
    type: str
    score: float | None = None
    choices: list[str] | None = Field(default=None, sa_column=Column(JSON))
    call_id: str | None = None
    data_subject: str | None = None
    segment: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    answered_at: datetime = Field(index=True)


_QUESTIONS: Any = SurveyQuestion.__table__  # type: ignore[attr-defined]
_ANSWERS: Any = SurveyAnswer.__table__  # type: ignore[attr-defined]


class SurveysProjection:
    name: str = "surveys"
    version: int = 1
    types: frozenset[str] = frozenset({"survey.defined", "survey.answered"})
    topics: tuple[Topic, ...] = (SURVEYS,)

    def create_tables(self, engine: Engine) -> None:
        SQLModel.metadata.create_all(engine, tables=[_QUESTIONS, _ANSWERS])

    def apply(self, session: Session, envelopes: Sequence[Envelope]) -> None:
        defined = [e.data for e in envelopes if isinstance(e.data, SurveyDefined)]
        questions = [_question_row(survey, q) for survey in defined for q in survey.questions]
        upsert(session, _QUESTIONS, questions, keys=["survey_id", "version", "question_id"])
        answered = [e for e in envelopes if isinstance(e.data, SurveyAnswered)]
        if not answered:
            return
        types = _question_types(session, answered)
        rows = [row for envelope in answered for row in _answer_rows(envelope, types)]
        upsert(session, _ANSWERS, rows, keys=["response_id", "question_id"])


def _question_row(survey: SurveyDefined, question: Any) -> dict[str, Any]:
    return {
        "survey_id": survey.survey_id,
        "version": survey.version,
        "question_id": question.id,
        "tenant_id": survey.tenant_id,
        "type": question.type.value,
        "topic": question.topic,
    }


def _question_types(session: Session, answered: list[Envelope]) -> dict[tuple[str, int, str], str]:
    surveys = {e.data.survey_id for e in answered}  # type: ignore[attr-defined]
    found = session.exec(
        select(SurveyQuestion).where(col(SurveyQuestion.survey_id).in_(surveys))
    ).all()
    return {(q.survey_id, q.version, q.question_id): q.type for q in found}


def _answer_rows(
    envelope: Envelope, types: dict[tuple[str, int, str], str]
) -> list[dict[str, Any]]:
    event = envelope.data
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
                "tenant_id": event.tenant_id,
                "survey_id": event.survey_id,
                "version": event.version,
                "type": kind,
                "score": _score(value) if kind in SCORED else None,
                "choices": None if kind in SCORED else _choices(value),
                "call_id": event.call_id,
                "data_subject": envelope.data_subject,
                "segment": event.segment,
                "answered_at": event.answered_at,
            }
        )
    return rows


def _score(value: object) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return float(value) if isinstance(value, int | float) else None


def _choices(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
