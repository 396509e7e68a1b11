"""How calls ended up: the wrap-up disposition of every call, per tenant and day.

The worked example of docs/projections.md: one table, one event type, idempotent by call id
(a redelivered `call.wrapped_up` inserts nothing), no personal data (notes stay sealed and are
never read). Analysts count with SQL, e.g. `SELECT day, disposition, count(*) FROM
analytics_dispositions WHERE tenant_id = 'acme' GROUP BY day, disposition`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from callcenter_events import Envelope
from callcenter_events.models import CallWrappedUp
from callcenter_events.store import insert_new
from callcenter_events.topics import CALLS, Topic
from sqlalchemy import Column, Date, String, Table
from sqlmodel import Session

from analytics.projection import METADATA, Tables

DISPOSITIONS = Table(
    "analytics_dispositions",
    METADATA,
    Column("call_id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    Column("day", Date, nullable=False, doc="UTC day of the wrap-up"),
    Column("disposition", String(64), nullable=False),
)


class DispositionsProjection:
    name = "dispositions"
    version = 1
    types: frozenset[str] = frozenset({"call.wrapped_up"})
    topics: tuple[Topic, ...] = (CALLS,)
    tables: tuple[Table, ...] = (DISPOSITIONS,)

    def apply(self, session: Session, envelopes: Sequence[Envelope], tables: Tables) -> None:
        rows = [
            {
                "call_id": event.call_id,
                "tenant_id": event.tenant_id,
                "day": event.wrapped_up_at.astimezone(UTC).date(),
                "disposition": event.disposition,
            }
            for event in (envelope.data for envelope in envelopes)
            if isinstance(event, CallWrappedUp)
        ]
        insert_new(session, tables[DISPOSITIONS.name], rows)
