"""May this customer be called for this campaign now? One verdict, with its reason.

A call needs all of: a marketing-call consent in force (the customer's latest statement is a
grant, dated no later than now), a local time inside the campaign's window (the customer's IANA
time zone, so daylight saving time is always right), fewer attempts than the cap, the retry
delay passed since the last attempt, and no call from another of the tenant's campaigns within
the rest period. Whatever is unknown (no statement, a time zone that cannot be read) forbids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callcenter_events.models import CampaignRules


class Standing(StrEnum):
    """Where a target stands; the first five are the exclusions a campaign reports."""

    NO_CONSENT = "no_consent"
    WITHDRAWN = "withdrawn"
    ATTEMPT_CAP = "attempt_cap"
    REST_PERIOD = "rest_period"
    OUTSIDE_WINDOW = "outside_window"
    REACHED = "reached"
    CALLING = "calling"
    RETRYING = "retrying"
    CALLABLE = "callable"


EXCLUSIONS = (
    Standing.NO_CONSENT,
    Standing.WITHDRAWN,
    Standing.ATTEMPT_CAP,
    Standing.REST_PERIOD,
    Standing.OUTSIDE_WINDOW,
)


@dataclass(frozen=True, slots=True)
class Consent:
    """The customer's latest marketing-call statement."""

    granted: bool
    at: datetime
    event_id: str


@dataclass(frozen=True, slots=True)
class Target:
    """A customer as one campaign sees them: their consent, zone and call history."""

    timezone: str
    consent: Consent | None
    attempts: int = 0
    last_attempt_at: datetime | None = None
    calling: bool = False
    reached: bool = False
    other_campaign_call_at: datetime | None = None
    erased: bool = False


def judge(target: Target, rules: CampaignRules, now: datetime) -> Standing:
    """The target's standing at `now` (aware); only `CALLABLE` allows a call."""
    return (
        _progress(target)
        or _consent(target, now)
        or _limits(target, rules, now)
        or (
            Standing.CALLABLE if in_window(target.timezone, rules, now) else Standing.OUTSIDE_WINDOW
        )
    )


def _progress(target: Target) -> Standing | None:
    if target.reached:
        return Standing.REACHED
    return Standing.CALLING if target.calling else None


def _consent(target: Target, now: datetime) -> Standing | None:
    consent = target.consent
    if target.erased or consent is None:
        return Standing.NO_CONSENT
    if not consent.granted:
        return Standing.WITHDRAWN
    return Standing.NO_CONSENT if consent.at > now else None  # dated ahead: not in force yet


def _limits(target: Target, rules: CampaignRules, now: datetime) -> Standing | None:
    if target.attempts >= rules.max_attempts:
        return Standing.ATTEMPT_CAP
    if _within(target.other_campaign_call_at, timedelta(days=rules.rest_days), now):
        return Standing.REST_PERIOD
    if _within(target.last_attempt_at, timedelta(seconds=rules.retry_after_s), now):
        return Standing.RETRYING
    return None


def _within(earlier: datetime | None, period: timedelta, now: datetime) -> bool:
    return earlier is not None and now - earlier < period


def local_time(timezone: str, now: datetime) -> datetime | None:
    """`now` on the customer's clock; None when the zone is unknown."""
    try:
        return now.astimezone(ZoneInfo(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def in_window(timezone: str, rules: CampaignRules, now: datetime) -> bool:
    local = local_time(timezone, now)
    if local is None:
        return False
    clock = local.time().replace(tzinfo=None)
    return rules.window.start <= clock < rules.window.end
