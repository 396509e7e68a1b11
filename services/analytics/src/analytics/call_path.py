"""The columns of the call facts (`analytics_calls`) that the agent, queue and survey reports read.

The calls projection owns that table; these reports read its stable view by name, so they
depend on its columns only, not on its module, and every build of it serves them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from callcenter_events.store import as_utc
from sqlalchemy import DateTime, Integer, String, column, table
from sqlalchemy.sql.expression import TableClause

CALLS_VIEW = "analytics_calls"

CALLS: TableClause = table(
    CALLS_VIEW,
    column("call_id", String),
    column("tenant_id", String),
    column("direction", String),
    column("topic", String),
    column("language", String),
    column("campaign_id", String),
    column("agent_id", String),
    column("step", Integer),
    column("received_at", DateTime(timezone=True)),
    column("connected_at", DateTime(timezone=True)),
    column("ended_at", DateTime(timezone=True)),
    column("abandoned_at", DateTime(timezone=True)),
    column("wrapped_up_at", DateTime(timezone=True)),
)


def utc(moment: datetime) -> datetime:
    """A bound for a query: SQLite stores UTC wall time and compares text, so convert first."""
    return moment.astimezone(UTC)


def utc_or_none(moment: datetime | None) -> datetime | None:
    """A time read back from either store, aware (SQLite hands back naive UTC)."""
    return None if moment is None else as_utc(moment)
