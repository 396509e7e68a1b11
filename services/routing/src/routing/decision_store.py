"""The recorded decisions, projected from routing's own facts, for `GET /v1/calls/{id}/routing`.

Read from the log like any projection (rows and positions in one transaction), so a decision
can be explained long after the call, by any instance, and after any restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from callcenter_events import Envelope
from callcenter_events.models import CallOffered, CallQueued, OfferClosed
from callcenter_events.store import insert_new
from callcenter_events.topics import ROUTING, Topic
from sqlalchemy import Engine, bindparam, update
from sqlmodel import Field, Session, SQLModel, col, select

from routing.facts import OUTCOME_OF


class RoutedCall(SQLModel, table=True):
    __tablename__ = "routing_calls"

    call_id: str = Field(primary_key=True)
    tenant_id: str = Field(index=True)
    queued_at: datetime


class RecordedDecision(SQLModel, table=True):
    __tablename__ = "routing_decisions"

    offer_id: str = Field(primary_key=True)
    call_id: str = Field(index=True)
    tenant_id: str
    offered_at: datetime
    agent_id: str
    step: int
    record: str  # the decision as the event carried it (JSON)
    outcome: str | None = None
    closed_at: datetime | None = None


_CALLS: Any = RoutedCall.__table__  # type: ignore[attr-defined]
_DECISIONS: Any = RecordedDecision.__table__  # type: ignore[attr-defined]
DECISION_FIELDS = (
    "requirements",
    "selection",
    "candidates",
    "tie_break",
    "eligible_count",
    "not_listed",
)


class DecisionProjection:
    name: str = "routing_decisions"
    version: int = 1
    types: frozenset[str] = frozenset({"call.queued", "call.offered", *OUTCOME_OF})
    topics: tuple[Topic, ...] = (ROUTING,)

    def create_tables(self, engine: Engine) -> None:
        SQLModel.metadata.create_all(engine, tables=[_CALLS, _DECISIONS])

    def apply(self, session: Session, envelopes: Sequence[Envelope]) -> None:
        events = [envelope.data for envelope in envelopes]
        calls = [
            {"call_id": e.call_id, "tenant_id": e.tenant_id, "queued_at": e.queued_at}
            for e in events
            if isinstance(e, CallQueued)
        ]
        insert_new(session, _CALLS, calls)
        decisions = [_decision_row(e) for e in events if isinstance(e, CallOffered)]
        insert_new(session, _DECISIONS, decisions)
        closed = [
            {
                "new_outcome": OUTCOME_OF[e.event_type],
                "new_closed_at": e.closed_at,
                "id": e.offer_id,
            }
            for e in events
            if isinstance(e, OfferClosed)
        ]
        if closed:
            session.execute(
                update(_DECISIONS)
                .where(_DECISIONS.c.offer_id == bindparam("id"))
                .values(outcome=bindparam("new_outcome"), closed_at=bindparam("new_closed_at")),
                closed,
            )


def _decision_row(offered: CallOffered) -> dict[str, Any]:
    return {
        "offer_id": offered.offer_id,
        "call_id": offered.call_id,
        "tenant_id": offered.tenant_id,
        "offered_at": offered.offered_at,
        "agent_id": offered.agent_id,
        "step": offered.step,
        "record": orjson.dumps(
            offered.model_dump(mode="json", include=set(DECISION_FIELDS))
        ).decode(),
    }


def routing_of(engine: Engine, call_id: str) -> tuple[RoutedCall | None, list[RecordedDecision]]:
    with Session(engine) as session:
        call = session.get(RoutedCall, call_id)
        decisions = session.exec(
            select(RecordedDecision)
            .where(col(RecordedDecision.call_id) == call_id)
            .order_by(col(RecordedDecision.offered_at), col(RecordedDecision.offer_id))
        ).all()
    return call, list(decisions)
