"""Calls per tenant and hour, by topic and language: the base of the call KPIs.

Each call is counted once, however often its `call.received` is delivered: the fact table is
keyed by call id, and only calls that are new to it add to the hourly counts. Both tables are
written in the transaction that also stores the consumed positions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from callcenter_events import Envelope
from callcenter_events.models import CallReceived
from callcenter_events.store import upsert
from callcenter_events.topics import CALLS, Topic
from sqlalchemy import Engine
from sqlmodel import Field, Session, SQLModel, col, select


class CallFact(SQLModel, table=True):
    __tablename__ = "analytics_call_facts"

    call_id: str = Field(primary_key=True)
    tenant_id: str = Field(index=True)
    direction: str
    topic: str
    language: str
    received_at: datetime


class CallsHourly(SQLModel, table=True):
    """Offered calls per hour (UTC, `YYYY-MM-DDTHH:00:00Z`)."""

    __tablename__ = "analytics_calls_hourly"

    tenant_id: str = Field(primary_key=True)
    hour: str = Field(primary_key=True)
    topic: str = Field(primary_key=True)
    language: str = Field(primary_key=True)
    offered: int = 0


_FACTS: Any = CallFact.__table__  # type: ignore[attr-defined]
_HOURLY: Any = CallsHourly.__table__  # type: ignore[attr-defined]


def hour_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:00:00Z")


class CallsProjection:
    name: str = "calls"
    version: int = 1
    types: frozenset[str] = frozenset({"call.received"})
    topics: tuple[Topic, ...] = (CALLS,)

    def create_tables(self, engine: Engine) -> None:
        SQLModel.metadata.create_all(engine, tables=[_FACTS, _HOURLY])

    def apply(self, session: Session, envelopes: Sequence[Envelope]) -> None:
        calls = {
            env.data.call_id: env.data for env in envelopes if isinstance(env.data, CallReceived)
        }
        known = _known(session, calls)
        new_calls = [call for call_id, call in calls.items() if call_id not in known]
        if not new_calls:
            return
        session.execute(_FACTS.insert(), [_fact(call) for call in new_calls])
        offered = Counter(
            (c.tenant_id, hour_of(c.received_at), c.topic, c.language) for c in new_calls
        )
        rows = [
            {"tenant_id": t, "hour": h, "topic": topic, "language": lang, "offered": n}
            for (t, h, topic, lang), n in offered.items()
        ]
        upsert(
            session, _HOURLY, rows, keys=["tenant_id", "hour", "topic", "language"], add=["offered"]
        )


def _known(session: Session, calls: dict[str, CallReceived]) -> set[str]:
    found = session.exec(select(CallFact.call_id).where(col(CallFact.call_id).in_(list(calls))))
    return set(found.all())


def _fact(call: CallReceived) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "tenant_id": call.tenant_id,
        "direction": call.direction.value,
        "topic": call.topic,
        "language": call.language,
        "received_at": call.received_at,
    }
