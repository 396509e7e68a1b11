"""The calls report: KPIs per tenant, period (of each call's `received_at`, UTC) and group.

The calls are streamed from the database and summed per row in Python, with only whole numbers
(counts and microseconds): the same sums on SQLite and PostgreSQL, whatever the range. A call
belongs to one row per group value; a list-valued segment attribute (products bought) puts it
in the row of each of its values, a missing one in the row of null. Rows are sorted by period,
tenant, then group values (as text, nulls last); periods without calls are absent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from callcenter_events.store import as_utc
from sqlalchemy import Engine, Row

from analytics.calls_kpis import COUNTS, CallFacts, counts_of, figures
from analytics.calls_query import GROUP_COLUMNS, SEGMENT_PREFIX, CallsQuery, calls_statement
from analytics.calls_thresholds import ThresholdHistory
from analytics.periods import period_start

FETCH = 5000
Key = tuple[Any, ...]


def calls_report(engine: Engine, query: CallsQuery, now: datetime) -> list[dict[str, Any]]:
    """The report's rows; `now` decides which calls' 72 hours for FCR have passed."""
    totals: dict[Key, list[int]] = {}
    with engine.connect() as connection:
        history = ThresholdHistory.load(connection, query.tenant_id)
        statement = calls_statement(query, connection.dialect.name)
        for row in connection.execution_options(yield_per=FETCH).execute(statement):
            facts = _facts(row)
            counts = counts_of(facts, history.at(row.tenant_id, facts.received_at), now)
            start = period_start(facts.received_at, query.interval)
            for groups in _group_values(row, query.group_by):
                _add(totals, (start, row.tenant_id, *groups), counts)
    return [_row(key, sums, query.group_by) for key, sums in sorted(totals.items(), key=_order)]


def _facts(row: Row[Any]) -> CallFacts:
    return CallFacts(
        direction=row.direction,
        received_at=as_utc(row.received_at),
        connected_at=_aware(row.connected_at),
        abandoned_at=_aware(row.abandoned_at),
        ended_at=_aware(row.ended_at),
        wrapped_up_at=_aware(row.wrapped_up_at),
        repeated=bool(row.repeated),
    )


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def _add(totals: dict[Key, list[int]], key: Key, counts: tuple[int, ...]) -> None:
    sums = totals.get(key)
    if sums is None:
        totals[key] = list(counts)
        return
    for index, count in enumerate(counts):
        sums[index] += count


def _group_values(row: Row[Any], group_by: tuple[str, ...]) -> list[Key]:
    keys: list[Key] = [()]
    for name in group_by:
        keys = [(*key, value) for key in keys for value in _values(row, name)]
    return keys


def _values(row: Row[Any], name: str) -> Iterable[Any]:
    if not name.startswith(SEGMENT_PREFIX):
        return (row._mapping[GROUP_COLUMNS[name].name],)
    value = (row.segment or {}).get(name.removeprefix(SEGMENT_PREFIX))
    if isinstance(value, list):
        return list(dict.fromkeys(value)) or [None]
    return (value,)


def _order(item: tuple[Key, list[int]]) -> tuple[Any, ...]:
    start, tenant_id, *groups = item[0]
    return (start, tenant_id, *((value is None, str(value)) for value in groups))


def _row(key: Key, sums: list[int], group_by: tuple[str, ...]) -> dict[str, Any]:
    start, tenant_id, *groups = key
    return {
        "period_start": start.isoformat(),
        "tenant_id": tenant_id,
        **dict(zip(group_by, groups, strict=True)),
        **figures(sums),
    }


__all__ = ["COUNTS", "CallsQuery", "calls_report"]
