"""The dialer never requests an unlawful call, whatever happens over days of ticks.

A simulated timeline crosses the days daylight saving time changes in Europe, North America
and Australia. Customers live in zones with odd offsets; consent is given, withdrawn, given
again (some statements dated in the future, some reported late); other campaigns call people;
calls end reached or not. At every tick the dialer picks whom to call, and every pick is
checked against the law as this test states it, independently of the dialer's code: consent in
force, local time inside the window (computed from the epoch), attempts under the cap, retry
delay and rest period respected, nobody called twice at once or after being reached.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from callcenter_events.models import CallingWindow, CampaignRules
from hypothesis import given, settings
from hypothesis import strategies as st
from surveys.dialing.audience import in_audience
from surveys.dialing.eligibility import Consent, Target
from surveys.dialing.plan import Candidate, pick

ZONES = [
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/St_Johns",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "UTC",
]
DST_DAYS = [
    datetime(2026, 3, 29, tzinfo=UTC),  # Europe springs forward
    datetime(2026, 10, 25, tzinfo=UTC),  # Europe falls back
    datetime(2026, 3, 8, tzinfo=UTC),  # North America springs forward
    datetime(2026, 11, 1, tzinfo=UTC),  # North America falls back
    datetime(2026, 4, 5, tzinfo=UTC),  # Australia falls back
    datetime(2026, 10, 4, tzinfo=UTC),  # Australia springs forward
]
LINE = ("acme", "de")
REGIONS = ["north", "south", "east"]


@dataclass(frozen=True)
class Statement:
    granted: bool
    at: datetime
    known_from: datetime  # when it reaches the dialer (reported late, or dated ahead)
    event_id: str


@dataclass
class Person:
    zone: str
    statements: list[Statement]
    other_calls: list[datetime]
    region: str
    calls: list[tuple[datetime, datetime, bool]] = field(
        default_factory=list
    )  # start, end, reached


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[datetime, CampaignRules, list[Person], list[int]]:
    start = draw(st.sampled_from(DST_DAYS)) - timedelta(hours=draw(st.integers(0, 36)))
    start_minute = 5 * draw(st.integers(0, 24 * 12 - 2))  # on a grid the ticks can hit
    length = 5 * draw(st.integers(1, (24 * 60 - 1 - start_minute) // 5))
    window = CallingWindow(start=_clock(start_minute), end=_clock(start_minute + length))
    regions = draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=2, unique=True))
    rules = CampaignRules(
        audience={"region": regions},
        window=window,
        max_attempts=draw(st.integers(1, 4)),
        retry_after_s=draw(st.integers(60, 8 * 3600)),
        rest_days=draw(st.integers(0, 3)),
    )
    people = [draw(_people(start)) for _ in range(draw(st.integers(1, 6)))]
    steps = draw(st.lists(st.integers(1, 9 * 12).map(lambda n: 5 * n), min_size=1, max_size=40))
    return start, rules, people, steps


def _clock(minute: int) -> time:
    return time(minute // 60, minute % 60)


@st.composite
def _people(draw: st.DrawFn, start: datetime) -> Person:
    hours = st.integers(-72, 72).map(lambda h: start + timedelta(hours=h))
    statements = []
    for n in range(draw(st.integers(0, 4))):
        at = draw(hours)
        late = timedelta(minutes=draw(st.integers(-600, 600)))  # dated ahead, or reported late
        statements.append(Statement(draw(st.booleans()), at, at + late, f"c{n}"))
    others = draw(st.lists(hours, max_size=3))
    return Person(draw(st.sampled_from(ZONES)), statements, others, draw(st.sampled_from(REGIONS)))


@settings(max_examples=400, deadline=None)
@given(scenario=scenarios(), seed=st.randoms(use_true_random=False))
def test_no_call_is_ever_requested_unlawfully(scenario, seed) -> None:  # type: ignore[no-untyped-def]
    start, rules, people, steps = scenario
    now = start
    for step in steps:
        now += timedelta(minutes=step)
        candidates = [
            Candidate(index, _target(person, now), LINE)
            for index, person in enumerate(people)
            if in_audience(rules.audience, {"region": person.region})  # the campaign's targets
        ]
        room = Counter({LINE: seed.randint(0, len(people))})
        for chosen in pick(candidates, rules, now, room):
            person = people[chosen.key]
            assert person.region in rules.audience["region"], "called outside the audience"
            _assert_lawful(person, rules, now)
            ends = now + timedelta(minutes=seed.randint(1, 90))
            person.calls.append((now, ends, seed.random() < 0.3))
        assert room[LINE] >= 0


def _target(person: Person, now: datetime) -> Target:
    """What the dialer's store knows at `now`: the statements reported so far, the calls."""
    known = [s for s in person.statements if s.known_from <= now]
    latest = max(known, key=lambda s: s.at, default=None)
    consent = Consent(latest.granted, latest.at, latest.event_id) if latest else None
    finished = [call for call in person.calls if call[1] <= now]
    return Target(
        timezone=person.zone,
        consent=consent,
        attempts=len(person.calls),
        last_attempt_at=max((c[0] for c in person.calls), default=None),
        calling=any(call[1] > now for call in person.calls),
        reached=any(call[2] for call in finished),
        other_campaign_call_at=max((t for t in person.other_calls if t <= now), default=None),
    )


def _assert_lawful(person: Person, rules: CampaignRules, now: datetime) -> None:
    in_force = [s for s in person.statements if s.known_from <= now and s.at <= now]
    assert in_force, "called without any consent statement"
    assert max(in_force, key=lambda s: s.at).granted, "called after consent was withdrawn"
    local = datetime.fromtimestamp(now.timestamp(), ZoneInfo(person.zone))
    minute = local.hour * 60 + local.minute
    start, end = rules.window.start, rules.window.end
    assert start.hour * 60 + start.minute <= minute < end.hour * 60 + end.minute, (
        f"called at {local.isoformat()} outside {start}-{end}"
    )
    assert len(person.calls) < rules.max_attempts, "called above the attempt cap"
    assert all(end <= now for _, end, _ in person.calls), "called while a call is running"
    assert not any(reached for _, end, reached in person.calls if end <= now), "called again"
    if person.calls:
        assert now - person.calls[-1][0] >= timedelta(seconds=rules.retry_after_s)
    rest = timedelta(days=rules.rest_days)
    assert all(not (now - rest < t <= now) for t in person.other_calls), "inside the rest"
