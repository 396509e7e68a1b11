"""The SQL of the calls report: the calls received in a range, with what their KPIs and groups
need, and whether each completed inbound call was followed by a repeat call within 72 hours.

The repeat is found by the database (one index probe per completed call, on data subject, topic
and time), exactly on both stores: PostgreSQL adds an interval to a `timestamptz`; SQLite keeps
UTC times as text `YYYY-MM-DD HH:MM:SS.ffffff`, so 72 hours are added to the whole seconds and
the fraction is put back, and the texts compare as the times do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, select

from analytics.calls_kpis import FCR_WINDOW
from analytics.periods import Interval
from analytics.projections.calls_tables import CALLS, CUSTOMER_SEGMENTS

SEGMENT_PREFIX = "segment."
GROUP_COLUMNS = {
    "topic": CALLS.c.topic,
    "language": CALLS.c.language,
    "agent": CALLS.c.agent_id,
    "campaign": CALLS.c.campaign_id,
    "direction": CALLS.c.direction,
}
"""Group names and the call column each groups by (plus `segment.<name>`)."""
FACT_COLUMNS = (
    "tenant_id",
    "direction",
    "received_at",
    "connected_at",
    "abandoned_at",
    "ended_at",
    "wrapped_up_at",
)


@dataclass(frozen=True, slots=True)
class CallsQuery:
    start: datetime
    end: datetime
    interval: Interval
    group_by: tuple[str, ...] = ()
    tenant_id: str | None = None

    @property
    def segments(self) -> bool:
        return any(name.startswith(SEGMENT_PREFIX) for name in self.group_by)


def calls_statement(query: CallsQuery, dialect: str) -> Select[Any]:
    """Calls received in [start, end), of one tenant or all; the groups' columns after the facts."""
    c = CALLS
    facts = [c.c[name] for name in FACT_COLUMNS]
    groups = [GROUP_COLUMNS[name] for name in query.group_by if name in GROUP_COLUMNS]
    statement = select(
        *facts,
        *(column for column in groups if column.name not in FACT_COLUMNS),
        _repeated(dialect).label("repeated"),
    ).where(c.c.received_at >= _utc(query.start), c.c.received_at < _utc(query.end))
    if query.tenant_id is not None:
        statement = statement.where(c.c.tenant_id == query.tenant_id)
    if query.segments:
        s = CUSTOMER_SEGMENTS
        joined = c.outerjoin(
            s, and_(s.c.data_subject == c.c.data_subject, s.c.tenant_id == c.c.tenant_id)
        )
        statement = statement.add_columns(s.c.segment).select_from(joined)
    return statement


def _repeated(dialect: str) -> ColumnElement[Any]:
    """For a completed inbound call: did the same person call again on the same topic within
    72 hours after it ended? (null for other calls)"""
    c, later = CALLS, CALLS.alias("later")
    again = exists().where(
        later.c.data_subject == c.c.data_subject,
        later.c.topic == c.c.topic,
        later.c.tenant_id == c.c.tenant_id,
        later.c.direction == "inbound",
        later.c.received_at > c.c.ended_at,
        later.c.received_at <= _window_end(c.c.ended_at, dialect),
    )
    completed = and_(
        c.c.direction == "inbound",
        c.c.wrapped_up_at.is_not(None),
        c.c.ended_at.is_not(None),
        c.c.data_subject.is_not(None),
    )
    return case((completed, again), else_=literal(False))


def _window_end(ended_at: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return ended_at + FCR_WINDOW
    hours = f"+{FCR_WINDOW // timedelta(hours=1)} hours"
    whole = func.strftime("%Y-%m-%d %H:%M:%S", func.substr(ended_at, 1, 19), hours)
    return whole.op("||")(func.substr(ended_at, 20))


def _utc(moment: datetime) -> datetime:
    """SQLite stores and compares UTC wall time: a bound with another offset is converted."""
    return moment.astimezone(UTC)
