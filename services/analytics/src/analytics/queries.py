"""Reading the call counts for analysts: periods, groups, tenant scope."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from analytics.periods import Interval, period_start
from analytics.projections.calls import CallsHourly, hour_of

FORMULA_VERSION = "calls/1"
GROUPS = ("topic", "language")


@dataclass(frozen=True, slots=True)
class CallsQuery:
    start: datetime
    end: datetime
    interval: Interval
    group_by: tuple[str, ...]
    tenant_id: str | None


def calls_report(engine: Engine, query: CallsQuery) -> list[dict[str, Any]]:
    """Offered calls per tenant, period and the asked groups; periods without calls are absent."""
    totals: defaultdict[tuple[Any, ...], int] = defaultdict(int)
    for row in _hourly_rows(engine, query):
        moment = datetime.fromisoformat(row.hour)
        key = (row.tenant_id, period_start(moment, query.interval))
        key += tuple(getattr(row, name) for name in query.group_by)
        totals[key] += row.offered
    return [_row(key, offered, query.group_by) for key, offered in sorted(totals.items())]


def _hourly_rows(engine: Engine, query: CallsQuery) -> Sequence[CallsHourly]:
    statement = select(CallsHourly).where(
        col(CallsHourly.hour) >= hour_of(query.start), col(CallsHourly.hour) < _end_text(query.end)
    )
    if query.tenant_id is not None:
        statement = statement.where(col(CallsHourly.tenant_id) == query.tenant_id)
    with Session(engine) as session:
        return session.exec(statement).all()


def _end_text(end: datetime) -> str:
    """`end` as the hour column writes it, rounded up to a second (hours starting before count)."""
    whole = end.astimezone(UTC).replace(microsecond=0)
    if end.microsecond:
        whole += timedelta(seconds=1)
    return whole.strftime("%Y-%m-%dT%H:%M:%SZ")


def _row(key: tuple[Any, ...], offered: int, group_by: tuple[str, ...]) -> dict[str, Any]:
    tenant_id, start, *groups = key
    return {
        "period_start": start.isoformat(),
        "tenant_id": tenant_id,
        **dict(zip(group_by, groups, strict=True)),
        "offered": offered,
    }
