"""A campaign's progress counted in the database equals every target judged one by one.

Random targets (consent granted, withdrawn, dated ahead or missing; erased; zones; attempts;
retry and rest periods running or not; calling; reached; completed) are written straight into
the projection's tables, on SQLite and on PostgreSQL; the test judges each target itself.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from typing import Any

from callcenter_events.models import CallingWindow, CampaignRules
from callcenter_events.store import make_engine
from sqlmodel import Session
from surveys.campaignprogress import progress
from surveys.campaignreads import campaign
from surveys.campaignstore import CampaignProjection
from surveys.campaigntables import CALLS_TABLE, CAMPAIGNS, PEOPLE, TARGETS
from surveys.dialing.eligibility import Consent, Standing, Target, judge

NOW = datetime(2026, 10, 25, 8, 30, tzinfo=UTC)  # Europe's clocks went back this night
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Bad/Zone"]
RULES = CampaignRules(
    audience={},
    window=CallingWindow(start=time(9), end=time(17)),
    max_attempts=3,
    retry_after_s=3600,
    rest_days=2,
)


def _person(rng: random.Random, n: int) -> tuple[dict[str, Any], dict[str, Any], Any]:
    subject = f"s-{n}"
    granted = rng.choice([True, False, None])
    consent_at = NOW + timedelta(hours=rng.choice([-30, -1, 1])) if granted is not None else None
    gone = rng.random() < 0.1
    person: dict[str, Any] = {
        "tenant_id": "acme",
        "subject_id": subject,
        "customer_ref": None if gone else "sealed-ref",
        "phone": None if gone and rng.random() < 0.5 else "sealed-phone",
        "language": "de",
        "timezone": rng.choice(ZONES),
        "segment": {},
        "consent_granted": granted,
        "consent_at": consent_at,
        "consent_event_id": "e" if granted is not None else None,
        "erased": gone,
    }
    attempts = rng.randint(0, 3)
    last = NOW - timedelta(minutes=rng.choice([10, 120])) if attempts else None
    target = {
        "campaign_id": "cp-1",
        "subject_id": subject,
        "tenant_id": "acme",
        "seq": n,
        "attempts": attempts,
        "last_attempt_at": last,
        "calling_call_id": f"oc-{n}" if attempts and rng.random() < 0.1 else None,
        "reached": bool(attempts) and rng.random() < 0.3,
        "completed": False,
    }
    target["completed"] = target["reached"] and rng.random() < 0.5
    other = NOW - timedelta(hours=rng.choice([24, 60, 72])) if rng.random() < 0.3 else None
    return person, target, other


def _oracle(person: dict[str, Any], target: dict[str, Any], other: Any) -> Standing:
    consent = None
    if person["consent_granted"] is not None:
        consent = Consent(person["consent_granted"], person["consent_at"], "e")
    return judge(
        Target(
            timezone=person["timezone"],
            consent=consent,
            attempts=target["attempts"],
            last_attempt_at=target["last_attempt_at"],
            calling=target["calling_call_id"] is not None,
            reached=target["reached"],
            other_campaign_call_at=other,
            erased=person["erased"] or not person["phone"] or not person["customer_ref"],
        ),
        RULES,
        NOW,
    )


def test_progress_counts_as_judging_each_target(database_url: str) -> None:
    rng = random.Random(20261025)
    drawn = [_person(rng, n) for n in range(600)]
    engine = make_engine(database_url)
    CampaignProjection().create_tables(engine)
    campaign_row = {
        "campaign_id": "cp-1",
        "tenant_id": "acme",
        "name": "n",
        "survey_id": "sv",
        "rules": RULES.model_dump(mode="json"),
        "created_at": NOW,
    }
    other_calls = [
        {
            "call_id": f"other-{n}",
            "tenant_id": "acme",
            "campaign_id": "cp-0",
            "subject_id": person["subject_id"],
            "requested_at": other,
        }
        for n, (person, _target, other) in enumerate(drawn)
        if other is not None
    ]
    with Session(engine) as session:
        session.execute(CAMPAIGNS.insert(), [campaign_row])
        session.execute(PEOPLE.insert(), [person for person, _, _ in drawn])
        session.execute(TARGETS.insert(), [target for _, target, _ in drawn])
        session.execute(CALLS_TABLE.insert(), other_calls)
        session.commit()
    found = campaign(engine, "cp-1")
    assert found is not None

    counted = progress(engine, found, NOW)
    engine.dispose()

    expected = Counter(_oracle(*row) for row in drawn)
    assert counted.standings == expected
    assert len(expected) >= 8, "the sample reaches nearly every standing"
    assert counted.targeted == len(drawn)
    assert counted.attempted == sum(1 for _, target, _ in drawn if target["attempts"])
    assert counted.completed == sum(1 for _, target, _ in drawn if target["completed"])
