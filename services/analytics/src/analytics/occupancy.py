"""Occupancy: an agent's status time per period, from the timeline of their statuses (pure).

A status holds from its change until the agent's next change (or the end of what is asked:
`to`, or now). Each span is clipped to [from, to) and cut at period boundaries, and counted
in whole microseconds, so sums are exact and do not depend on the order they are added in.

    occupancy = (talk + wrap-up) / (talk + wrap-up + available)

talk = time `on_call`, wrap-up = time `wrap_up`, available = time `available` (idle and ready);
`away` and `offline` count in neither. No talk, wrap-up or available time: null.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from analytics.periods import Interval, period_start

MICROSECOND = timedelta(microseconds=1)
TALK, WRAP_UP, AVAILABLE = "on_call", "wrap_up", "available"
COUNTED = (TALK, WRAP_UP, AVAILABLE)


@dataclass(frozen=True, slots=True)
class StatusAt:
    agent_id: str
    at: datetime
    seq: int
    status: str


Key = tuple[datetime, str]
"""(period start, agent id)"""
StatusTime = dict[Key, dict[str, int]]
"""status -> microseconds, per period and agent"""


def status_time(
    changes: Iterable[StatusAt], start: datetime, end: datetime, interval: Interval
) -> StatusTime:
    """Microseconds per counted status, per period and agent, within [start, end)."""
    by_agent: defaultdict[str, list[StatusAt]] = defaultdict(list)
    for change in changes:
        by_agent[change.agent_id].append(change)
    totals: StatusTime = defaultdict(lambda: dict.fromkeys(COUNTED, 0))
    for agent_id, timeline in by_agent.items():
        for status, since, until in spans(timeline, end):
            if status in COUNTED:
                for period, micros in cut(since, until, start, end, interval):
                    totals[(period, agent_id)][status] += micros
    return dict(totals)


def spans(timeline: list[StatusAt], end: datetime) -> Iterator[tuple[str, datetime, datetime]]:
    """(status, since, until) of one agent's timeline; the last status lasts until `end`."""
    ordered = sorted(timeline, key=lambda c: (c.at, c.seq))
    for this, after in zip(ordered, [*ordered[1:], None], strict=True):
        yield this.status, this.at, after.at if after is not None else max(end, this.at)


def cut(
    since: datetime, until: datetime, start: datetime, end: datetime, interval: Interval
) -> Iterator[tuple[datetime, int]]:
    """[since, until) clipped to [start, end), as (period start, microseconds) per period."""
    moment, stop = max(since, start), min(until, end)
    while moment < stop:
        period = period_start(moment, interval)
        boundary = min(next_period(period, interval), stop)
        yield period, (boundary - moment) // MICROSECOND
        moment = boundary


def next_period(period: datetime, interval: Interval) -> datetime:
    if interval is Interval.HOUR:
        return period + timedelta(hours=1)
    if interval is Interval.DAY:
        return period + timedelta(days=1)
    if interval is Interval.WEEK:
        return period + timedelta(weeks=1)
    return period.replace(year=period.year + period.month // 12, month=period.month % 12 + 1)


def occupancy(talk: int, wrap_up: int, available: int) -> float | None:
    counted = talk + wrap_up + available
    return round((talk + wrap_up) / counted, 4) if counted else None
