"""Reporting intervals: the start of the period an hour belongs to (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum


class Interval(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def period_start(moment: datetime, interval: Interval) -> datetime:
    hour = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if interval is Interval.HOUR:
        return hour
    day = hour.replace(hour=0)
    if interval is Interval.DAY:
        return day
    if interval is Interval.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)
