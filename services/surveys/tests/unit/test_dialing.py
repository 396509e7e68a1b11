"""The dialer's rules, example by example: consent, window edges across DST, caps, pacing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
from callcenter_events.models import CallingWindow, CampaignRules
from pydantic import ValidationError
from surveys.customer_schemas import ConsentStatement
from surveys.dialing.audience import in_audience
from surveys.dialing.eligibility import Consent, Standing, Target, judge
from surveys.dialing.pacing import AgentView, room

RULES = CampaignRules(
    audience={},
    window=CallingWindow(start=time(9, 0), end=time(10, 0)),
    max_attempts=2,
    retry_after_s=3600,
    rest_days=7,
)
GIVEN = Consent(granted=True, at=datetime(2026, 1, 1, tzinfo=UTC), event_id="c1")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _berlin(**history: object) -> Target:
    return Target(timezone="Europe/Berlin", consent=GIVEN, **history)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("utc", "standing"),
    [
        ("2026-03-28T08:00:00+00:00", Standing.CALLABLE),  # 09:00 CET: the start is inside
        ("2026-03-28T08:59:00+00:00", Standing.CALLABLE),  # 09:59 CET
        ("2026-03-28T09:00:00+00:00", Standing.OUTSIDE_WINDOW),  # 10:00 CET: the end is not
        ("2026-03-29T07:00:00+00:00", Standing.CALLABLE),  # 09:00 CEST, the day clocks change
        ("2026-03-29T08:00:00+00:00", Standing.OUTSIDE_WINDOW),  # 10:00 CEST
        ("2026-10-25T07:30:00+00:00", Standing.OUTSIDE_WINDOW),  # 08:30 CET, back to winter
        ("2026-10-25T08:30:00+00:00", Standing.CALLABLE),  # 09:30 CET
    ],
)
def test_the_window_is_the_customers_local_time_across_daylight_saving(
    utc: str, standing: Standing
) -> None:
    assert judge(_berlin(), RULES, _at(utc)) is standing


NOW = _at("2026-05-04T07:30:00+00:00")  # 09:30 in Berlin


@pytest.mark.parametrize(
    ("target", "standing"),
    [
        (Target(timezone="Europe/Berlin", consent=None), Standing.NO_CONSENT),
        (
            Target(timezone="Europe/Berlin", consent=Consent(False, GIVEN.at, "c2")),
            Standing.WITHDRAWN,
        ),
        (
            Target(timezone="Europe/Berlin", consent=Consent(True, NOW + timedelta(days=1), "c")),
            Standing.NO_CONSENT,
        ),
        (Target(timezone="Mars/Olympus", consent=GIVEN), Standing.OUTSIDE_WINDOW),
        (_berlin(erased=True), Standing.NO_CONSENT),
        (_berlin(attempts=2, last_attempt_at=NOW - timedelta(days=2)), Standing.ATTEMPT_CAP),
        (_berlin(attempts=1, last_attempt_at=NOW - timedelta(minutes=59)), Standing.RETRYING),
        (_berlin(attempts=1, last_attempt_at=NOW - timedelta(minutes=60)), Standing.CALLABLE),
        (_berlin(other_campaign_call_at=NOW - timedelta(days=6)), Standing.REST_PERIOD),
        (_berlin(other_campaign_call_at=NOW - timedelta(days=7)), Standing.CALLABLE),
        (_berlin(attempts=1, calling=True), Standing.CALLING),
        (_berlin(attempts=1, reached=True), Standing.REACHED),
    ],
)
def test_each_reason_not_to_call(target: Target, standing: Standing) -> None:
    assert judge(target, RULES, NOW) is standing


@pytest.mark.parametrize(
    ("audience", "matches"),
    [
        ({}, True),
        ({"region": "north"}, True),
        ({"region": ["south", "north"]}, True),
        ({"region": "south"}, False),
        ({"products": "tv"}, True),
        ({"products": ["radio", "dsl"]}, True),
        ({"products": "radio"}, False),
        ({"vip": True}, True),
        ({"vip": 1}, False),
        ({"age": 40}, False),
        ({"region": "north", "products": "radio"}, False),
    ],
)
def test_audience_filters_on_segment_attributes(audience: dict[str, object], matches: bool) -> None:
    segment: dict[str, object] = {"region": "north", "products": ["dsl", "tv"], "vip": True}
    assert in_audience(audience, segment) is matches  # type: ignore[arg-type]


def test_pacing_leaves_one_waiting_call_per_available_qualified_agent() -> None:
    skills = {"campaign": 1, "tenant:acme": 1, "lang:de": 3, "lang:en": 1}
    agents = [
        AgentView(skills, "available"),
        AgentView(skills, "available"),
        AgentView(skills, "on_call"),
        AgentView({"tenant:acme": 1, "lang:de": 1}, "available"),  # no campaign skill
        AgentView({"campaign": 1, "tenant:globex": 1, "lang:de": 1}, "available"),
    ]
    got = room(agents, {("acme", "de"): 1, ("acme", "en"): 2})
    assert got == Counter({("acme", "de"): 1, ("globex", "de"): 1})


def test_a_consent_statement_dated_ahead_is_refused_a_little_skew_is_not() -> None:
    soon = datetime.now(UTC) + timedelta(minutes=2)
    assert ConsentStatement(marketing_calls=True, source="web", at=soon).at == soon
    with pytest.raises(ValidationError, match="dated in the future"):
        ConsentStatement(marketing_calls=True, source="web", at=soon + timedelta(hours=1))
