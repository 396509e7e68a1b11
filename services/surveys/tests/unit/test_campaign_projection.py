"""The campaign projection: targets by audience, and a target's history whatever the order
in which the surveys, calls and routing topics deliver the facts of its calls."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from callcenter_events import Envelope, Event, wrap
from callcenter_events.models import (
    CallConnected,
    CallEnded,
    CallingWindow,
    CallReceived,
    CampaignCreated,
    CampaignRules,
    ConsentGiven,
    ConsentWithdrawn,
    CustomerUpdated,
    Direction,
    HangupBy,
    OutboundCallRequested,
    Outcome,
)
from callcenter_events.store import make_engine
from sqlalchemy import select
from sqlmodel import Session
from surveys.campaignstore import CampaignProjection
from surveys.campaigntables import PEOPLE, TARGETS

AT = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
RULES = CampaignRules(
    audience={"region": ["north", "east"]},
    window=CallingWindow(start=time(9), end=time(18)),
    max_attempts=3,
    retry_after_s=600,
    rest_days=0,
)


def _envelope(event: Event, subject: str | None = None) -> Envelope:
    return wrap(event, source="/test", correlation_id="c", data_subject=subject)


def _customer(subject: str, region: str) -> Envelope:
    event = CustomerUpdated(
        tenant_id="acme",
        customer_ref=f"ref-{subject}",
        phone="+4930123",
        language="de",
        timezone="Europe/Berlin",
        segment={"region": region},
        updated_at=AT,
    )
    return _envelope(event, subject)


def _consent(subject: str) -> Envelope:
    event = ConsentGiven(
        tenant_id="acme",
        customer_ref=f"ref-{subject}",
        purpose="marketing_calls",
        source="web",
        at=AT,
        recorded_at=AT,
        recorded_by="operator",
    )
    return _envelope(event, subject)


def _campaign(campaign_id: str) -> Envelope:
    event = CampaignCreated(
        campaign_id=campaign_id,
        tenant_id="acme",
        name=campaign_id,
        survey_id="sv-1",
        rules=RULES,
        created_at=AT,
    )
    return _envelope(event)


def _call_facts(call_id: str, subject: str, attempt: int, outcome: Outcome) -> list[Envelope]:
    moment = AT + timedelta(minutes=attempt)
    requested = OutboundCallRequested(
        call_id=call_id,
        tenant_id="acme",
        campaign_id="cp-1",
        customer_ref=f"ref-{subject}",
        phone="+4930123",
        language="de-DE",
        attempt=attempt,
        consent_event_id="e",
        local_time=moment.isoformat(),
        timezone="Europe/Berlin",
        requested_at=moment,
    )
    received = CallReceived(
        call_id=call_id,
        tenant_id="acme",
        direction=Direction.OUTBOUND,
        language="de",
        topic="campaign",
        received_at=moment,
    )
    connected = CallConnected(
        offer_id=f"{call_id}.1",
        call_id=call_id,
        tenant_id="acme",
        agent_id="a",
        offered_at=moment,
        expires_at=moment,
        closed_at=moment,
    )
    ended = CallEnded(
        call_id=call_id, tenant_id="acme", by=HangupBy.AGENT, outcome=outcome, ended_at=moment
    )
    return [
        _envelope(requested, subject),
        _envelope(received, subject),
        _envelope(connected),
        _envelope(ended),
    ]


def _projected(
    tmp_path: Path, name: str, batches: list[list[Envelope]], table: Any
) -> list[dict[str, Any]]:
    """The rows of `table` after projecting the batches, one transaction each."""
    engine = make_engine(f"sqlite:///{tmp_path}/{name}.sqlite3")
    projection = CampaignProjection()
    projection.create_tables(engine)
    with Session(engine) as session:
        for batch in batches:
            projection.apply(session, batch)
            session.commit()
        rows = session.execute(select(table).order_by(table.c.subject_id)).mappings()
        found = [dict(row) for row in rows]
    engine.dispose()
    return found


def _targets(tmp_path: Path, name: str, batches: list[list[Envelope]]) -> list[dict[str, Any]]:
    rows = _projected(tmp_path, name, batches, TARGETS)
    return [{k: v for k, v in row.items() if k != "last_attempt_at"} for row in rows]


def test_a_campaign_targets_its_audience_then_and_later(tmp_path: Path) -> None:
    people = [_customer("s-a", "north"), _customer("s-b", "south"), _consent("s-a")]
    later = [_customer("s-c", "east"), _customer("s-d", "west")]
    got = _targets(tmp_path, "audience", [[*people, _campaign("cp-1"), *later]])
    assert [(row["subject_id"], row["seq"]) for row in got] == [("s-a", 0), ("s-c", 1)]


def test_a_targets_history_is_the_same_in_any_order_of_the_topics(tmp_path: Path) -> None:
    setup = [_customer("s-a", "north"), _consent("s-a"), _campaign("cp-1")]
    first = _call_facts("oc-1", "s-a", 1, Outcome.NO_ANSWER)
    second = _call_facts("oc-2", "s-a", 2, Outcome.REACHED)
    surveys = [first[0], second[0]]  # the requests: surveys topic
    calls = [first[1], first[3], second[1], second[3]]  # received and ended: calls topic
    routing = [first[2], second[2]]  # connected: routing topic
    results = [
        _targets(tmp_path, f"order{n}", [setup, *order])
        for n, order in enumerate(itertools.permutations([surveys, calls, routing]))
    ]
    expected = {
        "campaign_id": "cp-1",
        "subject_id": "s-a",
        "tenant_id": "acme",
        "seq": 0,
        "attempts": 2,
        "calling_call_id": None,
        "reached": True,
        "completed": False,
    }
    assert all(result == [expected] for result in results), results


def _statement(subject: str, granted: bool, at_minutes: int, recorded_minutes: int) -> Envelope:
    kind = ConsentGiven if granted else ConsentWithdrawn
    event = kind(
        tenant_id="acme",
        customer_ref=f"ref-{subject}",
        purpose="marketing_calls",
        source="web",
        at=AT + timedelta(minutes=at_minutes),
        recorded_at=AT + timedelta(minutes=recorded_minutes),
        recorded_by="operator",
    )
    return _envelope(event, subject)


def _people_table(tmp_path: Path, name: str, batches: list[list[Envelope]]) -> list[Any]:
    return _projected(tmp_path, name, batches, PEOPLE)


def test_people_written_in_runs_end_as_written_one_by_one(tmp_path: Path) -> None:
    rng = random.Random(7)
    events: list[Envelope] = []
    for _ in range(300):
        subject = f"s-{rng.randrange(25)}"
        if rng.random() < 0.4:
            events.append(_customer(subject, rng.choice(["north", "south"])))
        else:
            minutes = rng.randrange(-50, 50)
            events.append(_statement(subject, rng.random() < 0.6, minutes, rng.randrange(100)))
    one_by_one = _people_table(tmp_path, "single", [[event] for event in events])
    chunks = [events[start : start + 40] for start in range(0, len(events), 40)]
    assert _people_table(tmp_path, "runs", chunks) == one_by_one
    assert _people_table(tmp_path, "all", [events]) == one_by_one
