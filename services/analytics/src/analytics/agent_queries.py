"""The agents report: status time and occupancy per agent and period, calls handled and AHT.

Formulas (version `agents/1`), per agent and period (UTC), within [from, min(to, now)):
- talk_s, wrap_up_s, available_s: time in status `on_call`, `wrap_up`, `available`;
- occupancy = (talk + wrap-up) / (talk + wrap-up + available), 4 decimals; null without time;
- calls_handled = calls connected to the agent in the period (by `connected_at`);
- aht_s = mean (talk + wrap-up) = mean (wrapped_up_at - connected_at) of those calls that are
  wrapped up, 3 decimals; null if none is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from callcenter_events.store import as_utc
from sqlalchemy import Engine, and_, func, select
from sqlalchemy.sql import CompoundSelect, Select

from analytics.call_path import CALLS, utc, utc_or_none
from analytics.occupancy import COUNTED, MICROSECOND, Key, StatusAt, occupancy, status_time
from analytics.periods import Interval, period_start
from analytics.projections.agents import AGENT_STATUS, AGENTS_NOW

AGENTS_FORMULA_VERSION = "agents/1"
AGENT_COLUMNS = (
    "period_start",
    "agent_id",
    "name",
    "talk_s",
    "wrap_up_s",
    "available_s",
    "occupancy",
    "calls_handled",
    "aht_s",
)


@dataclass(slots=True)
class Handled:
    """The calls an agent took in a period, and the handle times of those wrapped up (µs)."""

    count: int = 0
    handle_times: list[int] = field(default_factory=list)

    @property
    def aht_s(self) -> float | None:
        times = self.handle_times
        return round(sum(times) / len(times) / 1_000_000, 3) if times else None


@dataclass(frozen=True, slots=True)
class AgentsQuery:
    start: datetime
    end: datetime
    interval: Interval
    agent_id: str | None


def agents_report(engine: Engine, query: AgentsQuery) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        changes = [_status_at(row) for row in connection.execute(_timeline(query))]
        calls = list(connection.execute(_handled_calls(query)))
        names = dict(connection.execute(select(AGENTS_NOW.c.agent_id, AGENTS_NOW.c.name)).all())
    times = status_time(changes, query.start, query.end, query.interval)
    handled = _handled(calls, query.interval)
    keys = sorted(set(times) | set(handled))
    return [_row(key, names.get(key[1]), times.get(key), handled.get(key)) for key in keys]


def _timeline(query: AgentsQuery) -> CompoundSelect[Any]:
    """The changes in [start, end) and, per agent, the last one before `start` (in force then)."""
    status = AGENT_STATUS
    start, end = utc(query.start), utc(query.end)
    last = (
        select(status.c.agent_id, func.max(status.c.changed_at).label("at"))
        .where(status.c.changed_at < start)
        .group_by(status.c.agent_id)
    )
    if query.agent_id is not None:
        last = last.where(status.c.agent_id == query.agent_id)
    before = last.subquery()
    in_force = select(status).join(
        before, and_(status.c.agent_id == before.c.agent_id, status.c.changed_at == before.c.at)
    )
    within = select(status).where(status.c.changed_at >= start, status.c.changed_at < end)
    if query.agent_id is not None:
        within = within.where(status.c.agent_id == query.agent_id)
    return in_force.union_all(within)


def _status_at(row: Any) -> StatusAt:
    return StatusAt(row.agent_id, as_utc(row.changed_at), row.seq, row.status)


def _handled_calls(query: AgentsQuery) -> Select[Any]:
    statement = select(CALLS.c.agent_id, CALLS.c.connected_at, CALLS.c.wrapped_up_at).where(
        CALLS.c.agent_id.is_not(None),
        CALLS.c.connected_at >= utc(query.start),
        CALLS.c.connected_at < utc(query.end),
    )
    if query.agent_id is not None:
        statement = statement.where(CALLS.c.agent_id == query.agent_id)
    return statement


def _handled(calls: Iterable[Any], interval: Interval) -> dict[Key, Handled]:
    handled: defaultdict[Key, Handled] = defaultdict(Handled)
    for call in calls:
        connected = as_utc(call.connected_at)
        entry = handled[(period_start(connected, interval), call.agent_id)]
        entry.count += 1
        wrapped = utc_or_none(call.wrapped_up_at)
        if wrapped is not None:
            entry.handle_times.append((wrapped - connected) // MICROSECOND)
    return dict(handled)


def _row(
    key: Key, name: str | None, times: dict[str, int] | None, handled: Handled | None
) -> dict[str, Any]:
    times = times or {}
    talk, wrap_up, available = (times.get(status, 0) for status in COUNTED)
    handled = handled or Handled()
    return {
        "period_start": key[0].isoformat(),
        "agent_id": key[1],
        "name": name,
        "talk_s": talk / 1_000_000,
        "wrap_up_s": wrap_up / 1_000_000,
        "available_s": available / 1_000_000,
        "occupancy": occupancy(talk, wrap_up, available),
        "calls_handled": handled.count,
        "aht_s": handled.aht_s,
    }
