"""Query times near the ends of Python's calendar are a 400, not an overflow (a fuzzer's find)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from analytics.http import time_range
from callcenter_service import ProblemError


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, datetime(1, 1, 1, 1, 1, tzinfo=UTC)),
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), None),
        (datetime(9999, 12, 31, 23, 0, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)),
        (None, datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-23)))),
    ],
)
def test_extreme_times_are_refused_with_400(start: datetime | None, end: datetime | None) -> None:
    with pytest.raises(ProblemError) as refused:
        time_range(start, end)
    assert refused.value.status == 400


def test_ordinary_range_is_kept() -> None:
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    assert time_range(start, end) == (start, end)
    assert time_range(None, end) == (end - timedelta(days=7), end)
