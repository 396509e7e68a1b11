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
)
from callcenter_events.store import upsert
from callcenter_events.topics import CALLS, ROUTING, Topic
from sqlalchemy import Engine, update
from sqlmodel import Field, Session, SQLModel, col, or_, select

STATE_AFTER = {
    "call.queued": "queued",
    "call.abandoned": "abandoned",
    "call.ended": "wrap_up",
    "call.wrapped_up": "completed",
}
RANK = {"queued": 0, "offered": 1, "connected": 2, "wrap_up": 3, "completed": 4, "abandoned": 4}
PENDING_TIMEOUT = timedelta(seconds=60)


class IntakeCall(SQLModel, table=True):
    __tablename__ = "intake_calls"

    call_id: str = Field(primary_key=True)
    tenant_id: str = Field(index=True)
    direction: str
    state: str = Field(index=True)
    topic: str
    language: str
    priority: int
    customer_ref: str | None = None
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


_CALLS: Any = IntakeCall.__table__  # type: ignore[attr-defined]
_TIMELINE: Any = TimelineEntry.__table__  # type: ignore[attr-defined]
TYPES = frozenset({"call.received", *STATE_AFTER})


class CallProjection:
    name: str = "intake_calls"
    version: int = 1
    types: frozenset[str] = TYPES
    topics: tuple[Topic, ...] = (CALLS, ROUTING)

    def create_tables(self, engine: Engine) -> None:
        SQLModel.metadata.create_all(engine, tables=[_CALLS, _TIMELINE])

    def apply(self, session: Session, envelopes: Sequence[Envelope]) -> None:
        """The whole batch in three statements or so: timeline, new calls, state changes."""
        relevant = [e for e in envelopes if isinstance(e.data, _CALL_EVENTS)]
        timeline = [_timeline_row(e) for e in relevant]
        upsert(session, _TIMELINE, timeline, keys=["event_id"])
        new_calls = [_new_call(e.data) for e in relevant if isinstance(e.data, CallReceived)]
        upsert(session, _CALLS, new_calls, keys=["call_id"])
        _advance_states(session, [e for e in relevant if e.type in STATE_AFTER])


_CALL_EVENTS = (CallReceived, CallQueued, CallAbandoned, CallEnded, CallWrappedUp)


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
        target = STATE_AFTER[envelope.type]
        if call is not None and RANK[call.state] < RANK[target]:
            call.state, call.updated_at = target, envelope.time
            session.add(call)


def _new_call(event: CallReceived) -> dict[str, Any]:
    return {
        "call_id": event.call_id,
        "tenant_id": event.tenant_id,
        "direction": event.direction.value,
        "state": "queued",
        "topic": event.topic,
        "language": event.language,
        "priority": event.priority,
        "customer_ref": event.customer_ref,
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
