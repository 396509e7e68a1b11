"""Surveys' view of its survey versions, the responses, and whose call each call was.

Responses keep their free text sealed as the event carried it; an erasure of the respondent
blanks it (scores and choices stay: they are not personal and every aggregate needs them).
Erased subjects are remembered in the table the customers projection shares (both read the
erasures). The calls table maps a call to its tenant and data subject, so that an answer given
on a call is sealed for the caller without the caller's data ever being stored here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from callcenter_events import Envelope
from callcenter_events.models import (
    CallReceived,
    SubjectsErased,
    SurveyAnswered,
    SurveyDefined,
    SurveyInvited,
)
from callcenter_events.store import upsert
from callcenter_events.topics import CALLS, PRIVACY, SURVEYS, Topic
from sqlalchemy import JSON, Column, Engine, update
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel, col, select

from surveys.customerstore import ErasedSubject


class SurveyVersion(SQLModel, table=True):
    __tablename__ = "surveys_versions"

    survey_id: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    tenant_id: str = Field(index=True)
    name: str
    kind: str
    questions: list[dict[str, Any]] = Field(sa_column=Column(JSON))
    defined_at: datetime


class Response(SQLModel, table=True):
    __tablename__ = "surveys_responses"

    response_id: str = Field(primary_key=True)
    tenant_id: str = Field(index=True)
    survey_id: str = Field(index=True)
    version: int
    call_id: str | None = None
    subject_id: str | None = Field(default=None, index=True)
    answers: dict[str, Any] = Field(sa_column=Column(JSON))
    text_answers: str | None = None
    segment: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    answered_at: datetime


class CallSubject(SQLModel, table=True):
    __tablename__ = "surveys_calls"

    call_id: str = Field(primary_key=True)
    tenant_id: str
    data_subject: str | None = None


class Invitation(SQLModel, table=True):
    """A post-call survey invitation, and the response that answered it (once)."""

    __tablename__ = "surveys_invitations"

    invitation_id: str = Field(primary_key=True)
    tenant_id: str
    survey_id: str
    version: int
    call_id: str
    data_subject: str | None = None
    invited_at: datetime
    response_id: str | None = None


_VERSIONS: Any = SurveyVersion.__table__  # type: ignore[attr-defined]
_RESPONSES: Any = Response.__table__  # type: ignore[attr-defined]
_CALLS: Any = CallSubject.__table__  # type: ignore[attr-defined]
_ERASED: Any = ErasedSubject.__table__  # type: ignore[attr-defined]
_INVITATIONS: Any = Invitation.__table__  # type: ignore[attr-defined]
TYPES = frozenset(
    {
        "survey.defined",
        "survey.answered",
        "survey.invited",
        "call.received",
        "caller.erased",
        "customer.erased",
    }
)


class SurveyProjection:
    name: str = "surveys_responses"
    version: int = 1
    types: frozenset[str] = TYPES
    topics: tuple[Topic, ...] = (SURVEYS, CALLS, PRIVACY)

    def create_tables(self, engine: Engine) -> None:
        SQLModel.metadata.create_all(
            engine, tables=[_VERSIONS, _RESPONSES, _CALLS, _ERASED, _INVITATIONS]
        )

    def apply(self, session: Session, envelopes: Sequence[Envelope]) -> None:
        calls = [_call_row(e) for e in envelopes if isinstance(e.data, CallReceived)]
        upsert(session, _CALLS, calls, keys=["call_id"])
        versions = [_version_row(e.data) for e in envelopes if isinstance(e.data, SurveyDefined)]
        upsert(session, _VERSIONS, versions, keys=["survey_id", "version"])
        responses = [_response_row(e) for e in envelopes if isinstance(e.data, SurveyAnswered)]
        upsert(session, _RESPONSES, _without_erased(session, responses), keys=["response_id"])
        invited = [_invitation_row(e) for e in envelopes if isinstance(e.data, SurveyInvited)]
        upsert(session, _INVITATIONS, invited, keys=["invitation_id"])
        _answer_invitations(session, envelopes)
        _blank_erased(session, envelopes)


def _blank_erased(session: Session, envelopes: Sequence[Envelope]) -> None:
    erasures = [e.data for e in envelopes if isinstance(e.data, SubjectsErased)]
    erased = [subject_id for erasure in erasures for subject_id in erasure.subject_ids]
    if not erased:
        return
    upsert(session, _ERASED, [{"subject_id": s} for s in erased], keys=["subject_id"])
    session.execute(
        update(_RESPONSES).where(_RESPONSES.c.subject_id.in_(erased)).values(text_answers=None)
    )


def _invitation_row(envelope: Envelope) -> dict[str, Any]:
    event = envelope.data
    assert isinstance(event, SurveyInvited)
    return {
        "invitation_id": event.invitation_id,
        "tenant_id": event.tenant_id,
        "survey_id": event.survey_id,
        "version": event.version,
        "call_id": event.call_id,
        "data_subject": envelope.data_subject,
        "invited_at": event.invited_at,
    }


def _answer_invitations(session: Session, envelopes: Sequence[Envelope]) -> None:
    """The first response to an invitation answers it."""
    for envelope in envelopes:
        event = envelope.data
        if isinstance(event, SurveyAnswered) and event.invitation_id:
            session.execute(
                update(_INVITATIONS)
                .where(
                    _INVITATIONS.c.invitation_id == event.invitation_id,
                    _INVITATIONS.c.response_id.is_(None),
                )
                .values(response_id=event.response_id)
            )


def _call_row(envelope: Envelope) -> dict[str, Any]:
    event = envelope.data
    assert isinstance(event, CallReceived)
    return {
        "call_id": event.call_id,
        "tenant_id": event.tenant_id,
        "data_subject": envelope.data_subject,
    }


def _version_row(event: SurveyDefined) -> dict[str, Any]:
    return {
        "survey_id": event.survey_id,
        "version": event.version,
        "tenant_id": event.tenant_id,
        "name": event.name,
        "kind": event.kind.value,
        "questions": [q.model_dump(mode="json", exclude_none=True) for q in event.questions],
        "defined_at": event.defined_at,
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
        "subject_id": envelope.data_subject,
        "answers": event.answers,
        "text_answers": event.text_answers,
        "segment": event.segment,
        "answered_at": event.answered_at,
    }


def _without_erased(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answers read after their respondent's erasure (a replay) keep no free text."""
    subjects = {row["subject_id"] for row in rows if row["subject_id"]}
    if not subjects:
        return rows
    found = session.execute(
        sa_select(_ERASED.c.subject_id).where(_ERASED.c.subject_id.in_(subjects))
    )
    erased = set(found.scalars())
    for row in rows:
        if row["subject_id"] in erased:
            row["text_answers"] = None
    return rows


def latest_version(
    engine: Engine, survey_id: str, version: int | None = None
) -> SurveyVersion | None:
    with Session(engine) as session:
        statement = select(SurveyVersion).where(col(SurveyVersion.survey_id) == survey_id)
        if version is not None:
            statement = statement.where(col(SurveyVersion.version) == version)
        statement = statement.order_by(col(SurveyVersion.version).desc()).limit(1)
        return session.exec(statement).first()


def call_subject(engine: Engine, call_id: str) -> CallSubject | None:
    with Session(engine) as session:
        return session.get(CallSubject, call_id)


def invitation(engine: Engine, invitation_id: str) -> Invitation | None:
    with Session(engine) as session:
        return session.get(Invitation, invitation_id)


def invitations_of_call(engine: Engine, call_id: str) -> list[Invitation]:
    with Session(engine) as session:
        statement = select(Invitation).where(col(Invitation.call_id) == call_id)
        return list(session.exec(statement).all())
