from datetime import UTC, datetime, timedelta, timezone

import pytest
from analytics.periods import Interval, period_start

MOMENT = datetime(2026, 3, 5, 14, 37, 12, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (Interval.HOUR, datetime(2026, 3, 5, 14, tzinfo=UTC)),
        (Interval.DAY, datetime(2026, 3, 5, tzinfo=UTC)),
        (Interval.WEEK, datetime(2026, 3, 2, tzinfo=UTC)),
        (Interval.MONTH, datetime(2026, 3, 1, tzinfo=UTC)),
    ],
)
def test_period_start(interval: Interval, expected: datetime) -> None:
    assert period_start(MOMENT, interval) == expected


def test_period_start_is_in_utc_whatever_the_offset() -> None:
    berlin = MOMENT.astimezone(timezone(timedelta(hours=1)))
    assert period_start(berlin, Interval.DAY) == datetime(2026, 3, 5, tzinfo=UTC)
