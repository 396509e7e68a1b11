"""Counts a suite reports at the end of the run: faults injected, records checked, inputs tried.

A test adds to a count with `count("faults", "records checked", n)`; the root conftest prints
every count in pytest's terminal summary, so CI's output says how much was actually exercised.
"""

from __future__ import annotations

from collections import Counter

_COUNTS: Counter[tuple[str, str]] = Counter()


def count(suite: str, what: str, n: int = 1) -> None:
    _COUNTS[(suite, what)] += n


def counts() -> dict[str, dict[str, int]]:
    """Suite -> what -> count, in the order first counted."""
    by_suite: dict[str, dict[str, int]] = {}
    for (suite, what), n in _COUNTS.items():
        by_suite.setdefault(suite, {})[what] = n
    return by_suite


def summary_lines() -> list[str]:
    return [
        f"{suite}: " + ", ".join(f"{n:,} {what}" for what, n in whats.items())
        for suite, whats in counts().items()
    ]
