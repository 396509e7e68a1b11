"""Status time per period: spans clipped to the range, cut at period boundaries (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from analytics.occupancy import StatusAt, next_period, occupancy, status_time
from analytics.periods import Interval

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
S = 1_000_000


def at(minutes: float, status: str, agent: str = "a1", seq: int = 0) -> StatusAt:
    return StatusAt(agent, T0 + timedelta(minutes=minutes), seq, status)


def test_a_span_across_an_hour_boundary_is_split_between_the_hours() -> None:
    timeline = [at(30, "available"), at(70, "on_call"), at(100, "wrap_up"), at(110, "offline")]
    times = status_time(timeline, T0, T0 + timedelta(hours=3), Interval.HOUR)
    assert times == {
        (T0, "a1"): {"on_call": 0, "wrap_up": 0, "available": 30 * 60 * S},
        (T0 + timedelta(hours=1), "a1"): {
            "on_call": 30 * 60 * S,
            "wrap_up": 10 * 60 * S,
            "available": 10 * 60 * S,
        },
    }


def test_spans_are_clipped_to_the_range_and_the_last_status_lasts_until_its_end() -> None:
    timeline = [at(-90, "on_call"), at(15, "available")]
    times = status_time(timeline, T0, T0 + timedelta(minutes=45), Interval.DAY)
    day = T0.replace(hour=0)
    assert times == {(day, "a1"): {"on_call": 15 * 60 * S, "wrap_up": 0, "available": 30 * 60 * S}}


def test_away_and_offline_count_nowhere_and_agents_are_apart() -> None:
    timeline = [at(0, "away"), at(10, "available", "a2"), at(20, "offline", "a2")]
    times = status_time(timeline, T0, T0 + timedelta(hours=1), Interval.HOUR)
    assert times == {(T0, "a2"): {"on_call": 0, "wrap_up": 0, "available": 10 * 60 * S}}


def test_changes_at_one_instant_follow_routing_s_order() -> None:
    timeline = [at(10, "on_call", seq=8), at(10, "available", seq=7), at(20, "offline", seq=9)]
    times = status_time(reversed(timeline), T0, T0 + timedelta(hours=1), Interval.HOUR)
    assert times[(T0, "a1")]["on_call"] == 10 * 60 * S
    assert times[(T0, "a1")]["available"] == 0


@pytest.mark.parametrize(
    ("period", "interval", "following"),
    [
        (datetime(2026, 12, 1, tzinfo=UTC), Interval.MONTH, datetime(2027, 1, 1, tzinfo=UTC)),
        (datetime(2026, 1, 1, tzinfo=UTC), Interval.MONTH, datetime(2026, 2, 1, tzinfo=UTC)),
        (datetime(2026, 5, 4, tzinfo=UTC), Interval.WEEK, datetime(2026, 5, 11, tzinfo=UTC)),
    ],
)
def test_next_period(period: datetime, interval: Interval, following: datetime) -> None:
    assert next_period(period, interval) == following


def test_a_month_long_span_is_cut_at_month_ends() -> None:
    start = datetime(2026, 1, 31, 12, tzinfo=UTC)
    timeline = [StatusAt("a1", start, 0, "available")]
    times = status_time(timeline, start, datetime(2026, 2, 1, 12, tzinfo=UTC), Interval.MONTH)
    assert sorted((key[0].month, v["available"]) for key, v in times.items()) == [
        (1, 12 * 3600 * S),
        (2, 12 * 3600 * S),
    ]


def test_occupancy_is_busy_over_busy_and_available_and_null_without_time() -> None:
    assert occupancy(30, 10, 60) == 0.4
    assert occupancy(1, 1, 1) == 0.6667
    assert occupancy(0, 0, 0) is None
