"""Intake's view of every call: a projection of the calls and routing topics, and the guard
that lets exactly one of several concurrent state-changing requests through.

A state change applies its own event right after writing it; the projection consumer applies
it again from the log, which changes nothing the second time: timeline entries are keyed by
event id, and a call's state only moves forward. A new call is not written here on the hot
path: a read that misses waits (bounded) for the projection to reach the end of the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from callcenter_events import Envelope, utc_now
from callcenter_events.models import (
    CallAbandoned,
    CallEnded,
    CallQueued,
    CallReceived,
    CallWrappedUp,
    SubjectsErased,
)
from callcenter_events.models.routing import CallConnected, CallEscalated, CallOffered, OfferClosed
from callcenter_events.privacy.sealing import is_sealed, subject_of
from callcenter_events.store import upsert
from callcenter_events.topics import CALLS, PRIVACY, ROUTING, Topic
from sqlalchemy import Engine, update
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel, col, or_, select

STATE_AFTER = {
    "call.queued": "queued",
    "call.abandoned": "abandoned",
    "call.ended": "wrap_up",
    "call.wrapped_up": "completed",
}
RANK = {"queued": 0, "offered": 1, "connected": 2, "wrap_up": 3, "completed": 4, "abandoned": 4}
ROUTING_MOVES = {  # routing's facts: from these states only, to that one (an offer can end)
    "call.offered": (("queued", "offered"), "offered"),
    "call.connected": (("queued", "offered"), "connected"),
    "offer.rejected": (("offered",), "queued"),
    "offer.missed": (("offered",), "queued"),
    "offer.withdrawn": (("offered",), "queued"),
}
PENDING_TIMEOUT = timedelta(seconds=60)


class IntakeCall(SQLModel, table=True):
    """One call. Personal values are kept sealed as the event carried them, opened on read."""

    __tablename__ = "intake_calls_v2"

    call_id: str = Field(primary_key=True)
    tenant_id: str = Field(index=True)
    direction: str
    state: str = Field(index=True)
    topic: str
    language: str
    priority: int
    customer_ref: str | None = None
    caller_phone: str | None = None
    customer_subject: str | None = Field(default=None, index=True)
    phone_subject: str | None = Field(default=None, index=True)
    data_subject: str | None = None
    agent_id: str | None = None
    received_at: datetime = Field(index=True)
    updated_at: datetime
    pending: str | None = None
    pending_since: datetime | None = None


class TimelineEntry(SQLModel, table=True):
    __tablename__ = "intake_call_timeline"

    event_id: str = Field(primary_key=True)
    call_id: str = Field(index=True)
    type: str
    time: datetime


class ErasedSubject(SQLModel, table=True):
    """Subjects erased so far: a call read later (in a replay) keeps none of their data."""

    __tablename__ = "intake_erased_subjects"

    subject_id: str = Field(primary_key=True)


_CALLS: Any = IntakeCall.__table__  # type: ignore[attr-defined]
_TIMELINE: Any = TimelineEntry.__table__  # type: ignore[attr-defined]
_ERASED: Any = ErasedSubject.__table__  # type: ignore[attr-defined]
ERASURES = frozenset({"caller.erased", "customer.erased"})
TYPES = frozenset({"call.received", "call.escalated", *STATE_AFTER, *ROUTING_MOVES, *ERASURES})


class CallProjection:
    name: str = "intake_calls"
    version: int = 2
    types: frozenset[str] = TYPES
    topics: tuple[Topic, ...] = (CALLS, ROUTING, PRIVACY)

    def create_tables(self, engine: Engine) -> None:
        SQLModel.metadata.create_all(engine, tables=[_CALLS, _TIMELINE, _ERASED])

    def apply(self, session: Session, envelopes: Sequence[Envelope]) -> None:
        """The whole batch in a few statements: timeline, new calls, state changes, erasures."""
        relevant = [e for e in envelopes if isinstance(e.data, _CALL_EVENTS)]
        timeline = [_timeline_row(e) for e in relevant]
        upsert(session, _TIMELINE, timeline, keys=["event_id"])
        new_calls = [_new_call(e) for e in relevant if isinstance(e.data, CallReceived)]
        upsert(session, _CALLS, _without_erased(session, new_calls), keys=["call_id"])
        _advance_states(
            session, [e for e in relevant if e.type in STATE_AFTER or e.type in ROUTING_MOVES]
        )
        _blank_erased(session, _erased_subjects(envelopes))


_CALL_EVENTS = (
    CallReceived,
    CallQueued,
    CallAbandoned,
    CallEnded,
    CallWrappedUp,
    CallOffered,
    OfferClosed,
    CallEscalated,
)


def apply_event(session: Session, envelope: Envelope) -> None:
    CallProjection().apply(session, [envelope])


def _timeline_row(envelope: Envelope) -> dict[str, Any]:
    call_id = envelope.data.call_id  # type: ignore[attr-defined]
    return {
        "event_id": envelope.id,
        "call_id": call_id,
        "type": envelope.type,
        "time": envelope.time,
    }


def _advance_states(session: Session, changes: list[Envelope]) -> None:
    """Move each call forward to the furthest state its events reach; never backwards."""
    if not changes:
        return
    ids = {e.data.call_id for e in changes}  # type: ignore[attr-defined]
    calls = {
        c.call_id: c
        for c in session.exec(select(IntakeCall).where(col(IntakeCall.call_id).in_(ids)))
    }
    for envelope in changes:
        call = calls.get(envelope.data.call_id)  # type: ignore[attr-defined]
        target = _next_state(call.state, envelope.type) if call is not None else None
        if call is not None and target is not None:
            call.state, call.updated_at = target, envelope.time
            if isinstance(envelope.data, CallConnected):
                call.agent_id = envelope.data.agent_id
            session.add(call)


def _next_state(state: str, event_type: str) -> str | None:
    """Intake's own events only move a call forward; routing's move it between its states."""
    if event_type in ROUTING_MOVES:
        sources, target = ROUTING_MOVES[event_type]
        return target if state in sources else None
    target = STATE_AFTER[event_type]
    return target if RANK[state] < RANK[target] else None


PERSONAL_COLUMNS = {"caller_phone": "phone_subject", "customer_ref": "customer_subject"}


def _without_erased(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    subjects = {row[c] for row in rows for c in PERSONAL_COLUMNS.values() if row[c]}
    if not subjects:
        return rows
    erased = set(
        session.execute(
            sa_select(_ERASED.c.subject_id).where(_ERASED.c.subject_id.in_(subjects))
        ).scalars()
    )
    for row in rows:
        for column, subject_column in PERSONAL_COLUMNS.items():
            if row[subject_column] in erased:
                row[column] = None
    return rows


def _erased_subjects(envelopes: Sequence[Envelope]) -> list[str]:
    erasures = [e.data for e in envelopes if isinstance(e.data, SubjectsErased)]
    return [subject_id for erasure in erasures for subject_id in erasure.subject_ids]


def _blank_erased(session: Session, subject_ids: list[str]) -> None:
    """Drop the erased subjects' sealed values (their keys are destroyed anyway)."""
    if not subject_ids:
        return
    upsert(session, _ERASED, [{"subject_id": s} for s in subject_ids], keys=["subject_id"])
    for column, subject_column in PERSONAL_COLUMNS.items():
        session.execute(
            update(_CALLS).where(_CALLS.c[subject_column].in_(subject_ids)).values({column: None})
        )


def _subject(value: str | None) -> str | None:
    return subject_of(value) if value is not None and is_sealed(value) else None


def _new_call(envelope: Envelope) -> dict[str, Any]:
    event = envelope.data
    assert isinstance(event, CallReceived)
    return {
        "call_id": event.call_id,
        "tenant_id": event.tenant_id,
        "direction": event.direction.value,
        "state": "queued",
        "topic": event.topic,
        "language": event.language,
        "priority": event.priority,
        "customer_ref": event.customer_ref,
        "caller_phone": event.caller_phone,
        "customer_subject": _subject(event.customer_ref),
        "phone_subject": _subject(event.caller_phone),
        "data_subject": envelope.data_subject,
        "received_at": event.received_at,
        "updated_at": event.received_at,
    }


class CallStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, envelope: Envelope) -> None:
        """Apply an event this instance just wrote (the projection will see it again)."""
        with Session(self.engine) as session:
            apply_event(session, envelope)
            session.commit()

    def get(self, call_id: str) -> tuple[IntakeCall, list[TimelineEntry]] | None:
        with Session(self.engine) as session:
            call = session.get(IntakeCall, call_id)
            if call is None:
                return None
            entries = session.exec(
                select(TimelineEntry)
                .where(TimelineEntry.call_id == call_id)
                .order_by(col(TimelineEntry.time), col(TimelineEntry.event_id))
            ).all()
            return call, list(entries)

    def claim(self, call_id: str, command: str, allowed: Sequence[str]) -> bool:
        """Mark the call as taken by `command` if it is in an allowed state and not taken."""
        now = utc_now()
        stale = now - PENDING_TIMEOUT
        statement = (
            update(_CALLS)
            .where(
                _CALLS.c.call_id == call_id,
                _CALLS.c.state.in_(list(allowed)),
                or_(_CALLS.c.pending.is_(None), _CALLS.c.pending_since < stale),
            )
            .values(pending=command, pending_since=now)
        )
        with Session(self.engine) as session:
            claimed = session.execute(statement).rowcount == 1  # type: ignore[attr-defined]
            session.commit()
        return bool(claimed)

    def finish(self, call_id: str, envelope: Envelope | None) -> None:
        """Apply the command's event (None: it failed) and release the call."""
        with Session(self.engine) as session:
            if envelope is not None:
                apply_event(session, envelope)
            session.execute(
                update(_CALLS)
                .where(_CALLS.c.call_id == call_id)
                .values(pending=None, pending_since=None)
            )
            session.commit()


def page_of_calls(
    engine: Engine,
    *,
    tenant_id: str | None,
    state: str | None,
    topic: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    after: tuple[datetime, str] | None,
) -> list[IntakeCall]:
    """Newest first; `after` is the (received_at, call_id) of the last call of the page before."""
    statement = select(IntakeCall)
    for column, value in ((IntakeCall.tenant_id, tenant_id), (IntakeCall.state, state)):
        if value is not None:
            statement = statement.where(col(column) == value)
    if topic is not None:
        statement = statement.where(col(IntakeCall.topic) == topic)
    if start is not None:
        statement = statement.where(col(IntakeCall.received_at) >= start)
    if end is not None:
        statement = statement.where(col(IntakeCall.received_at) < end)
    if after is not None:
        moment, call_id = after
        statement = statement.where(
            or_(
                col(IntakeCall.received_at) < moment,
                (col(IntakeCall.received_at) == moment) & (col(IntakeCall.call_id) < call_id),
            )
        )
    statement = statement.order_by(
        col(IntakeCall.received_at).desc(), col(IntakeCall.call_id).desc()
    ).limit(limit)
    with Session(engine) as session:
        return list(session.exec(statement).all())
