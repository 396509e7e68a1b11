"""The formulas of `calls/2`: what a call counts for, the figures, rounding, thresholds in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from analytics.calls_kpis import COUNTS, CallFacts, Thresholds, counts_of, figures, rounded
from analytics.calls_thresholds import DEFAULT, ThresholdHistory

T0 = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
US = timedelta(microseconds=1)
NOW = T0 + timedelta(days=30)
RULES = Thresholds(service_level_s=20, short_abandon_s=5)


def _counts(call: CallFacts, now: datetime = NOW) -> dict[str, int]:
    return dict(zip(COUNTS, counts_of(call, RULES, now), strict=True))


def _answered(wait: timedelta, **changes: object) -> CallFacts:
    facts: dict[str, object] = {
        "direction": "inbound",
        "received_at": T0,
        "connected_at": T0 + wait,
        "ended_at": T0 + wait + timedelta(seconds=100),
        "wrapped_up_at": T0 + wait + timedelta(seconds=130),
    }
    return CallFacts(**(facts | changes))  # type: ignore[arg-type]


def test_answered_exactly_at_the_threshold_is_within_it() -> None:
    at, after = (
        _counts(_answered(timedelta(seconds=20))),
        _counts(_answered(timedelta(seconds=20) + US)),
    )
    assert (at["answered"], at["answered_within_threshold"]) == (1, 1)
    assert (after["answered"], after["answered_within_threshold"]) == (1, 0)
    assert at["wait_us"] == 20_000_000
    assert (at["completed"], at["handle_us"]) == (1, 130_000_000)


@pytest.mark.parametrize(
    ("wait", "short"), [(timedelta(seconds=5) - US, 1), (timedelta(seconds=5), 0)]
)
def test_short_abandon_is_a_wait_below_the_threshold(wait: timedelta, short: int) -> None:
    counts = _counts(CallFacts("inbound", T0, abandoned_at=T0 + wait))
    assert (counts["offered"], counts["abandoned"], counts["short_abandoned"]) == (1, 1, short)
    assert counts["answered"] == 0


def test_fcr_counts_a_completed_call_once_its_72_hours_have_passed() -> None:
    call = _answered(timedelta(seconds=3), repeated=True)
    assert call.ended_at is not None
    passed = call.ended_at + timedelta(hours=72)
    assert (_counts(call, passed)["fcr_calls"], _counts(call, passed - US)["fcr_calls"]) == (1, 0)
    assert _counts(call, passed)["fcr_resolved"] == 0
    assert _counts(_answered(timedelta(seconds=3)), passed)["fcr_resolved"] == 1


def test_a_call_not_wrapped_up_is_not_completed() -> None:
    counts = _counts(_answered(timedelta(seconds=3), wrapped_up_at=None))
    assert (counts["answered"], counts["completed"], counts["fcr_calls"]) == (1, 0, 0)


def test_outbound_calls_count_only_as_outbound() -> None:
    counts = _counts(_answered(timedelta(seconds=3), direction="outbound"))
    assert {name: n for name, n in counts.items() if n} == {
        "outbound_calls": 1,
        "outbound_connected": 1,
    }


def test_figures_and_null_rates() -> None:
    totals = dict.fromkeys(COUNTS, 0) | {
        "offered": 10,
        "answered": 6,
        "answered_within_threshold": 4,
        "abandoned": 4,
        "short_abandoned": 1,
        "wait_us": 10_000_001,
        "completed": 3,
        "handle_us": 1_000_000,
        "fcr_calls": 3,
        "fcr_resolved": 2,
    }
    row = figures(list(totals.values()))
    assert row["service_level"] == 0.4444  # 4 / (6 + 4 - 1)
    assert row["asa_s"] == 1.667  # 10.000001 s / 6
    assert row["aht_s"] == 0.333
    assert row["abandonment_rate"] == 0.3333  # 3 / 9
    assert row["fcr_rate"] == 0.6667
    empty = figures([0] * len(COUNTS))
    assert [
        empty[name] for name in ("service_level", "asa_s", "aht_s", "abandonment_rate", "fcr_rate")
    ] == [None] * 5


def test_rounding_is_half_away_from_zero_and_exact() -> None:
    assert rounded(1, 8, 2) == 0.13  # 0.125
    assert rounded(-1, 8, 2) == -0.13
    assert rounded(5, 2000, 3) == 0.003  # 0.0025
    assert rounded(10005, 10000, 3) == 1.001  # where round(1.0005, 3) of a float gives 1.0
    assert rounded(1, 0, 4) is None


def test_the_thresholds_in_force_when_a_call_was_received() -> None:
    later = Thresholds(30, 10)
    history = ThresholdHistory([("acme", T0 + timedelta(hours=1), later), ("acme", T0, RULES)])
    assert history.at("acme", T0 - US) == DEFAULT
    assert history.at("acme", T0) == RULES
    assert history.at("acme", T0 + timedelta(hours=1) - US) == RULES
    assert history.at("acme", T0 + timedelta(hours=1)) == later
    assert history.at("globex", T0) == DEFAULT == Thresholds(20, 5)


def test_a_row_of_one_call_counts_in_numbers_not_truth_values() -> None:
    """A report row summing one call's counts must read 0 and 1 in JSON and CSV, not false."""
    waiting = CallFacts(direction="inbound", received_at=T0)
    row = figures(list(counts_of(waiting, RULES, NOW)))
    counts = [row[name] for name in ("offered", "answered", "abandoned", "completed")]
    assert [type(value) for value in counts] == [int] * 4
    assert counts == [1, 0, 0, 0]
