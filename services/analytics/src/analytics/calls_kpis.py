"""The call KPIs of formula version `calls/2`: what one call adds to its row, and the figures.

Every figure is a ratio of whole numbers (counts, or durations in microseconds), so it is
exact, and it is rounded once: half away from zero, rates to 4 decimals, seconds to 3. A
ratio without a denominator is None (null), not 0. See docs/analytics.md for the definitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

FORMULA_VERSION = "calls/2"
FCR_WINDOW = timedelta(hours=72)
MICROSECOND = timedelta(microseconds=1)
RATE_PLACES, SECONDS_PLACES = 4, 3

COUNTS = (
    "offered",
    "answered",
    "answered_within_threshold",
    "abandoned",
    "short_abandoned",
    "wait_us",
    "completed",
    "handle_us",
    "fcr_calls",
    "fcr_resolved",
    "outbound_calls",
    "outbound_connected",
)
FIGURES = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "service_level",
    "asa_s",
    "aht_s",
    "abandonment_rate",
    "fcr_rate",
    "answered_within_threshold",
    "completed",
    "fcr_calls",
    "fcr_resolved",
    "outbound_calls",
    "outbound_connected",
)
"""The figures of a report row, in the order of its CSV columns."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    service_level_s: int = 20
    short_abandon_s: int = 5


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the KPIs read of one call (aware datetimes); `repeated`: a further inbound call of
    the same person on the same topic came within 72 h after this one ended."""

    direction: str | None
    received_at: datetime
    connected_at: datetime | None = None
    abandoned_at: datetime | None = None
    ended_at: datetime | None = None
    wrapped_up_at: datetime | None = None
    repeated: bool = False


def counts_of(call: CallFacts, thresholds: Thresholds, now: datetime) -> tuple[int, ...]:
    """What the call adds to each of `COUNTS` of its row."""
    if call.direction != "inbound":
        return _outbound(call)
    wait = _us(call.connected_at, call.received_at)
    abandon_wait = None if wait is not None else _us(call.abandoned_at, call.received_at)
    handle = _us(call.wrapped_up_at, call.connected_at) if call.ended_at else None
    fcr = handle is not None and call.ended_at is not None and call.ended_at + FCR_WINDOW <= now
    short = abandon_wait is not None and abandon_wait < thresholds.short_abandon_s * 1_000_000
    return _integers(
        1,
        wait is not None,
        wait is not None and wait <= thresholds.service_level_s * 1_000_000,
        abandon_wait is not None,
        short,
        wait or 0,
        handle is not None,
        handle or 0,
        fcr,
        fcr and not call.repeated,
        0,
        0,
    )


def _outbound(call: CallFacts) -> tuple[int, ...]:
    return _integers(*(0,) * 10, 1, call.connected_at is not None)


def _integers(*values: int | bool) -> tuple[int, ...]:
    """Counts as numbers: a row of one call must read `0`, not `false`."""
    return tuple(int(value) for value in values)


def _us(end: datetime | None, start: datetime | None) -> int | None:
    if end is None or start is None:
        return None
    return (end - start) // MICROSECOND


def figures(totals: list[int]) -> dict[str, Any]:
    """The row's figures from its summed `COUNTS`."""
    n = dict(zip(COUNTS, totals, strict=True))
    answered, abandoned, short = n["answered"], n["abandoned"], n["short_abandoned"]
    return {
        "offered": n["offered"],
        "answered": answered,
        "abandoned": abandoned,
        "short_abandoned": short,
        "service_level": rounded(
            n["answered_within_threshold"], answered + abandoned - short, RATE_PLACES
        ),
        "asa_s": rounded(n["wait_us"], answered * 1_000_000, SECONDS_PLACES),
        "aht_s": rounded(n["handle_us"], n["completed"] * 1_000_000, SECONDS_PLACES),
        "abandonment_rate": rounded(abandoned - short, n["offered"] - short, RATE_PLACES),
        "fcr_rate": rounded(n["fcr_resolved"], n["fcr_calls"], RATE_PLACES),
        **{name: n[name] for name in FIGURES[9:]},
    }


def rounded(numerator: int, denominator: int, places: int) -> float | None:
    """numerator / denominator rounded half away from zero, exactly (integer arithmetic)."""
    if denominator == 0:
        return None
    unit: int = 10**places
    negative = (numerator < 0) != (denominator < 0)
    scaled, rest = divmod(abs(numerator) * unit, abs(denominator))
    scaled += 2 * rest >= abs(denominator)
    return (-scaled if negative else scaled) / unit
