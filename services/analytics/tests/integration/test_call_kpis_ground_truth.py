"""Call KPIs over real HTTP equal the figures worked out from the generated history, exactly.

A seeded week of three tenants: inbound calls answered after known waits (some exactly at the
threshold), abandoned (some short, some exactly at the short-abandon threshold), still waiting,
talked and wrapped up or not; callers who call again on the same topic within 72 hours, exactly
at 72 hours, a microsecond later or much later; escalation steps and rejected offers; campaign
(outbound) calls; customers' segments (some replaced, the older version arriving last); and a
change of thresholds in the middle. The events go to the real broker as the services write
them (personal fields sealed), some twice. The analytics service reads them into SQLite or
PostgreSQL, and its answers are compared with sums computed here from the generated calls, in
plain Python (never through the projection or the report code).
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from analytics.app import create_app
from analytics.clock import current_time
from analytics.settings import AnalyticsSettings
from callcenter_events import Envelope, Event, Position, wrap
from callcenter_events import models as ev
from callcenter_events.producer import EventProducer
from callcenter_events.testing import sealed
from callcenter_service.directory import hash_key, new_api_key
from callcenter_service.settings import DEVELOPMENT_OPERATOR_TOKEN
from callcenter_testkit.inprocess import served

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

H0 = datetime(2026, 1, 28, tzinfo=UTC)  # a Wednesday: the week crosses a Monday and a month
DAYS = 6
NOW = H0 + timedelta(days=6, hours=12)  # the pinned "now": FCR counts calls ended 72 h before
US, SECOND, HOUR = timedelta(microseconds=1), timedelta(seconds=1), timedelta(hours=1)
FCR_WINDOW = timedelta(hours=72)
BERLIN = ZoneInfo("Europe/Berlin")
OPERATOR = {"Authorization": f"Bearer {DEVELOPMENT_OPERATOR_TOKEN}"}
THRESHOLDS = {  # tenant -> [(effective at, service level s, short abandon s)]
    "acme": [(H0 - 24 * HOUR, 20, 5), (H0 + timedelta(days=3, seconds=45296.789012), 25, 10)],
    "globex": [(H0 - 24 * HOUR, 15, 3), (H0 + 30 * HOUR, 10, 2)],
    "initech": [(H0 - 24 * HOUR, 30, 8)],
}
TOPICS, LANGUAGES = ("billing", "tech", "returns"), ("de", "en", "fr")
REGIONS, PRODUCTS = ("north", "south", "east"), ("tv", "radio", "phone", "laptop")
AGENTS = tuple(f"agent-{n}" for n in range(8))
CALLS_PER_TENANT, CUSTOMERS, CALLERS = 1100, 120, 40


@dataclass
class Person:
    tenant_id: str
    ref: str
    subject: str
    segment: dict[str, Any] | None  # None: a caller known by phone only


@dataclass
class Call:
    call_id: str
    tenant_id: str
    person: Person
    received: datetime
    topic: str
    language: str = "de"
    direction: str = "inbound"
    connected: datetime | None = None
    abandoned: datetime | None = None
    ended: datetime | None = None
    wrapped: datetime | None = None
    agent: str | None = None
    step: int = 0
    rejected_first: bool = False
    campaign: str | None = None


@dataclass
class History:
    people: list[Person] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    calls_by_caller: defaultdict[tuple[str, str, str], list[datetime]] = field(
        default_factory=lambda: defaultdict(list)
    )
    seq: int = 0

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


# --- the generated history ----------------------------------------------------------------


def generate(seed: int) -> History:
    rng = random.Random(seed)
    history = History()
    for tenant in THRESHOLDS:
        people = [person(rng, tenant, n, n < CUSTOMERS) for n in range(CUSTOMERS + CALLERS)]
        history.people += people
        for n in range(CALLS_PER_TENANT):
            at = H0 + timedelta(microseconds=rng.randrange(DAYS * 86_400_000_000))
            history.calls.append(inbound(rng, f"{tenant}-{n}", rng.choice(people), at))
    for call in list(history.calls):
        if call.ended is not None and rng.random() < 0.3:
            again = follow_up(rng, call)
            if again.received < NOW - HOUR:
                history.calls.append(again)
    history.calls += boundary_cases(rng, history)
    history.calls += outbound_calls(rng, history)
    return history


def person(rng: random.Random, tenant: str, n: int, customer: bool) -> Person:
    ref = f"{tenant}-{'cust' if customer else 'phone'}-{n}"
    _, subject = sealed(ref, "customer_ref" if customer else "caller_phone", tenant)
    segment: dict[str, Any] | None = None
    if customer:
        products = rng.sample(PRODUCTS, rng.randint(0, 3))
        segment = {"region": rng.choice(REGIONS), "products": products}
        if rng.random() < 0.8:
            segment["tier"] = rng.randint(1, 3)
    return Person(tenant, ref, subject, segment)


def inbound(rng: random.Random, call_id: str, caller: Person, at: datetime) -> Call:
    call = Call(call_id, caller.tenant_id, caller, at, rng.choice(TOPICS), rng.choice(LANGUAGES))
    outcome = rng.random()
    if outcome < 0.68:
        connect(rng, call, at + wait(rng, call, "service_level"))
    elif outcome < 0.95:
        call.abandoned = at + wait(rng, call, "short_abandon")
    return call


def wait(rng: random.Random, call: Call, kind: str) -> timedelta:
    """Random to the microsecond; now and then exactly the threshold in force."""
    _, service_level, short = rules(call)
    threshold = service_level if kind == "service_level" else short
    if rng.random() < 0.05:
        return threshold * SECOND
    return timedelta(microseconds=rng.randrange(3 * threshold * 1_000_000))


def connect(rng: random.Random, call: Call, at: datetime) -> None:
    call.connected, call.agent = at, rng.choice(AGENTS)
    call.step, call.rejected_first = rng.choice([0, 0, 1, 2]), rng.random() < 0.15
    if rng.random() < 0.95:
        call.ended = at + timedelta(microseconds=rng.randrange(20_000_000, 900_000_000))
        if rng.random() < 0.85:
            call.wrapped = call.ended + timedelta(microseconds=rng.randrange(0, 120_000_000))


def follow_up(rng: random.Random, call: Call) -> Call:
    """The same caller again: mostly on the same topic, within, at or after the 72 hours."""
    assert call.ended is not None
    after = rng.choice(
        [
            timedelta(microseconds=rng.randrange(1, 72 * 3_600_000_000)),
            FCR_WINDOW,
            FCR_WINDOW + US,
            timedelta(hours=rng.uniform(72, 120)),
        ]
    )
    again = inbound(rng, f"{call.call_id}-again", call.person, call.ended + after)
    again.topic = call.topic if rng.random() < 0.8 else again.topic
    return again


def boundary_cases(rng: random.Random, history: History) -> list[Call]:
    """Calls received exactly at a threshold change (answered after the new T, abandoned below
    the new S) and just before it, at midnight, and one that ends exactly at NOW - 72 h."""
    acme = [p for p in history.people if p.tenant_id == "acme"]
    change = THRESHOLDS["acme"][1][0]
    cases = [
        Call(f"edge-{n}", "acme", acme[n], at, "billing")
        for n, at in enumerate([change, change, change - US, change - US])
    ]
    for call in cases[::2]:
        connect(rng, call, call.received + 25 * SECOND)
    for call in cases[1::2]:
        call.abandoned = call.received + 7 * SECOND
    midnight = [
        inbound(rng, f"edge-{n}", acme[n], at)
        for n, at in ((4, H0 + 24 * HOUR), (5, H0 + 48 * HOUR - US))
    ]
    last = Call("edge-fcr", "acme", acme[0], NOW - FCR_WINDOW - 200 * SECOND, "tech")
    connect(rng, last, last.received + 5 * SECOND)
    last.ended, last.wrapped = NOW - FCR_WINDOW, NOW - FCR_WINDOW + SECOND
    return [*cases, *midnight, last]


def outbound_calls(rng: random.Random, history: History) -> list[Call]:
    calls = []
    for tenant, campaign in itertools.product(("acme", "globex"), ("spring", "autumn")):
        customers = [p for p in history.people if p.tenant_id == tenant and p.segment is not None]
        for n in range(60):
            at = H0 + timedelta(microseconds=rng.randrange(DAYS * 86_400_000_000))
            who = rng.choice(customers)
            call = Call(f"{tenant}-{campaign}-{n}", tenant, who, at, "campaign", "de", "outbound")
            call.campaign = campaign
            if rng.random() < 0.6:
                connect(rng, call, at + timedelta(seconds=rng.randint(5, 40)))
            else:
                call.abandoned = at + timedelta(seconds=rng.randint(20, 40))
            calls.append(call)
    return calls


def rules(call: Call) -> tuple[datetime, int, int]:
    """The thresholds in force when the call was received."""
    return [r for r in THRESHOLDS[call.tenant_id] if r[0] <= call.received][-1]


# --- the events, as intake, routing and surveys write them --------------------------------


def events_of(history: History, api_key: tuple[str, str]) -> list[Envelope]:
    """Tenants, customers and calls in the order they happened; older customer versions and
    a few repeated deliveries last."""
    rng = random.Random(7)
    ordered = tenant_events(api_key) + [e for p in history.people for e in customer(p)]
    for call in history.calls:
        ordered += call_events(history, call)
    ordered.sort(key=lambda envelope: envelope.time)
    late = [e for p in history.people[::5] if p.segment is not None for e in customer(p, old=True)]
    return ordered + late + rng.sample(ordered, len(ordered) // 30)


def envelope(event: Event, at: datetime, subject: str | None = None) -> Envelope:
    return wrap(
        event, source="/test/ground-truth", correlation_id="corr", time=at, data_subject=subject
    )


def tenant_events(api_key: tuple[str, str]) -> list[Envelope]:
    found = []
    for tenant, changes in THRESHOLDS.items():
        for n, (at, service_level, short) in enumerate(changes):
            settings = ev.TenantSettings(
                service_level_threshold_s=service_level, short_abandon_s=short
            )
            if n == 0:
                event: Event = ev.TenantCreated(
                    tenant_id=tenant, name=tenant, settings=settings, created_at=at
                )
            else:
                event = ev.TenantSettingsChanged(tenant_id=tenant, settings=settings, changed_at=at)
            found.append(envelope(event, at))
    key_id, token = api_key
    scopes = [ev.Scope.ANALYTICS_READ]
    key = ev.ApiKeyCreated(
        tenant_id="acme",
        key_id=key_id,
        scopes=scopes,
        key_hash=hash_key(token),
        created_at=H0 - HOUR,
    )
    return [*found, envelope(key, H0 - HOUR)]


def customer(person: Person, *, old: bool = False) -> list[Envelope]:
    """The latest version (a few updated mid-history), or an older one that arrives late."""
    if person.segment is None:
        return []
    at = H0 - (5 * HOUR if old else HOUR)
    if not old and person.ref.endswith("7"):
        at = H0 + 48 * HOUR
    event = ev.CustomerUpdated(
        tenant_id=person.tenant_id,
        customer_ref=sealed(person.ref, "customer_ref", person.tenant_id)[0],
        phone=sealed(person.ref, "phone", person.tenant_id)[0],
        language="de",
        timezone="Europe/Berlin",
        segment={"region": "west", "tier": 9} if old else person.segment,
        updated_at=at,
    )
    return [envelope(event, at, person.subject)]


def call_events(history: History, call: Call) -> list[Envelope]:
    ids = {"call_id": call.call_id, "tenant_id": call.tenant_id}
    subject, at = call.person.subject, call.received
    found = [envelope(received(call), at, subject)]
    if call.campaign is not None:
        found.append(envelope(requested(call), at - SECOND, subject))
    queued = ev.CallQueued(**ids, priority=0, requirements={}, queued_at=at, seq=history.next_seq())
    found.append(envelope(queued, at))
    if call.connected is not None:
        found += offers(history, call, call.connected)
    if call.abandoned is not None:
        outcome = ev.Outcome.NO_ANSWER if call.direction == "outbound" else None
        by = ev.HangupBy.AGENT if call.direction == "outbound" else ev.HangupBy.CALLER
        abandoned = ev.CallAbandoned(**ids, by=by, outcome=outcome, abandoned_at=call.abandoned)
        found.append(envelope(abandoned, call.abandoned))
    if call.ended is not None:
        outcome = ev.Outcome.REACHED if call.direction == "outbound" else None
        ended = ev.CallEnded(**ids, by=ev.HangupBy.CALLER, outcome=outcome, ended_at=call.ended)
        found.append(envelope(ended, call.ended))
    if call.wrapped is not None:
        wrapped = ev.CallWrappedUp(**ids, disposition="solved", wrapped_up_at=call.wrapped)
        found.append(envelope(wrapped, call.wrapped))
    return found


def received(call: Call) -> ev.CallReceived:
    tenant, customer_known = call.tenant_id, call.person.segment is not None
    field_name = "customer_ref" if customer_known else "caller_phone"
    return ev.CallReceived(
        call_id=call.call_id,
        tenant_id=tenant,
        direction=ev.Direction(call.direction),
        **{field_name: sealed(call.person.ref, field_name, tenant)[0]},
        language=call.language,
        topic=call.topic,
        received_at=call.received,
    )


def requested(call: Call) -> ev.OutboundCallRequested:
    tenant, ref = call.tenant_id, call.person.ref
    assert call.campaign is not None
    return ev.OutboundCallRequested(
        call_id=call.call_id,
        tenant_id=tenant,
        campaign_id=call.campaign,
        customer_ref=sealed(ref, "customer_ref", tenant)[0],
        phone=sealed(ref, "phone", tenant)[0],
        language=call.language,
        attempt=1,
        consent_event_id="consent-1",
        local_time=call.received.isoformat(),
        timezone="UTC",
        requested_at=call.received - SECOND,
    )


def offers(history: History, call: Call, connected: datetime) -> list[Envelope]:
    """The connected offer (at the call's step), after a rejected one at an earlier step."""
    assert call.agent is not None
    found = []
    if call.rejected_first:
        at = call.received + (connected - call.received) / 3
        first = offer(call, f"{call.call_id}-o1", "agent-x", at)
        found.append(
            envelope(ev.CallOffered(**first, **decision(history, max(call.step - 1, 0))), at)
        )
        rejected = ev.OfferRejected(**first, seq=history.next_seq(), closed_at=at + US)
        found.append(envelope(rejected, at + US))
    last = offer(call, f"{call.call_id}-o2", call.agent, connected - US)
    found.append(envelope(ev.CallOffered(**last, **decision(history, call.step)), connected - US))
    accepted = ev.CallConnected(**last, seq=history.next_seq(), closed_at=connected)
    return [*found, envelope(accepted, connected)]


def offer(call: Call, offer_id: str, agent: str, at: datetime) -> dict[str, Any]:
    return {
        "offer_id": offer_id,
        "call_id": call.call_id,
        "tenant_id": call.tenant_id,
        "agent_id": agent,
        "offered_at": at,
        "expires_at": at + 15 * SECOND,
    }


def decision(history: History, step: int) -> dict[str, Any]:
    return {
        "seq": history.next_seq(),
        "step": step,
        "requirements": {},
        "selection": ev.Selection.LONGEST_IDLE,
        "candidates": [],
        "tie_break": "only candidate",
        "eligible_count": 1,
        "not_listed": 0,
    }


# --- the figures, worked out from the generated calls -------------------------------------


def expected(
    history: History,
    start: datetime,
    end: datetime,
    interval: str,
    group_by: list[str],
    tenant: str | None = None,
) -> list[dict[str, Any]]:
    groups: defaultdict[tuple[Any, ...], list[Call]] = defaultdict(list)
    for call in history.calls:
        if start <= call.received < end and tenant in (None, call.tenant_id):
            for values in itertools.product(*(group_values(call, name) for name in group_by)):
                groups[(period(call.received, interval), call.tenant_id, *values)].append(call)
    rows = [kpi_row(history, key, calls, group_by) for key, calls in groups.items()]
    return sorted(rows, key=lambda row: row_order(row, group_by))


def period(moment: datetime, interval: str) -> datetime:
    if interval == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def group_values(call: Call, name: str) -> list[Any]:
    plain = {
        "topic": call.topic,
        "language": call.language,
        "agent": call.agent,
        "campaign": call.campaign,
        "direction": call.direction,
    }
    if name in plain:
        return [plain[name]]
    value = (call.person.segment or {}).get(name.removeprefix("segment."))
    if isinstance(value, list):
        return sorted(set(value)) or [None]
    return [value]


def row_order(row: dict[str, Any], group_by: list[str]) -> tuple[Any, ...]:
    groups = ((row[name] is None, str(row[name])) for name in group_by)
    return (row["period_start"], row["tenant_id"], *groups)


def kpi_row(
    history: History, key: tuple[Any, ...], calls: list[Call], group_by: list[str]
) -> dict[str, Any]:
    start, tenant, *values = key
    inbound = [c for c in calls if c.direction == "inbound"]
    answered = [c for c in inbound if c.connected is not None]
    abandoned = [c for c in inbound if c.abandoned is not None]
    short = [c for c in abandoned if waited(c, c.abandoned) < rules(c)[2] * SECOND]
    within = [c for c in answered if waited(c, c.connected) <= rules(c)[1] * SECOND]
    completed = [c for c in answered if c.ended is not None and c.wrapped is not None]
    fcr = [c for c in completed if c.ended is not None and c.ended + FCR_WINDOW <= NOW]
    resolved = [c for c in fcr if not called_again(history, c)]
    outbound = [c for c in calls if c.direction == "outbound"]
    waits = sum(waited(c, c.connected) // US for c in answered)
    handling = sum((c.wrapped - c.connected) // US for c in completed if c.wrapped and c.connected)
    return {
        "period_start": start.isoformat(),
        "tenant_id": tenant,
        **dict(zip(group_by, values, strict=True)),
        "offered": len(inbound),
        "answered": len(answered),
        "abandoned": len(abandoned),
        "short_abandoned": len(short),
        "service_level": ratio(len(within), len(answered) + len(abandoned) - len(short), 4),
        "asa_s": ratio(waits, len(answered) * 1_000_000, 3),
        "aht_s": ratio(handling, len(completed) * 1_000_000, 3),
        "abandonment_rate": ratio(len(abandoned) - len(short), len(inbound) - len(short), 4),
        "fcr_rate": ratio(len(resolved), len(fcr), 4),
        "answered_within_threshold": len(within),
        "completed": len(completed),
        "fcr_calls": len(fcr),
        "fcr_resolved": len(resolved),
        "outbound_calls": len(outbound),
        "outbound_connected": len([c for c in outbound if c.connected is not None]),
    }


def waited(call: Call, until: datetime | None) -> timedelta:
    assert until is not None
    return until - call.received


def called_again(history: History, call: Call) -> bool:
    """Another inbound call of the same person on the same topic within 72 h after the end."""
    if not history.calls_by_caller:
        for other in history.calls:
            if other.direction == "inbound":
                key = (other.tenant_id, other.person.subject, other.topic)
                history.calls_by_caller[key].append(other.received)
    assert call.ended is not None
    key = (call.tenant_id, call.person.subject, call.topic)
    return any(call.ended < at <= call.ended + FCR_WINDOW for at in history.calls_by_caller[key])


def ratio(numerator: int, denominator: int, places: int) -> float | None:
    """Half up, from the exact fraction."""
    if denominator == 0:
        return None
    scaled = math.floor(Fraction(numerator, denominator) * 10**places + Fraction(1, 2))
    return float(Fraction(scaled, 10**places))


# --- the service ----------------------------------------------------------------------------


async def publish(bootstrap: str, prefix: str, envelopes: list[Envelope]) -> list[Position]:
    producer = EventProducer(bootstrap, client_id="calls-ground-truth", topic_prefix=prefix)
    await producer.start()
    try:
        return await producer.publish_all(envelopes)
    finally:
        await producer.stop()


async def pinned_now() -> datetime:
    return NOW


async def calls_caught_up(client: httpx.AsyncClient) -> bool:
    answer = await client.get("/v1/projections")
    rows = answer.json()["projections"] if answer.status_code == 200 else []
    return any(r["name"] == "calls" and r["state"] == "live" and r["lag"] == 0 for r in rows)


async def test_call_kpis_equal_the_generated_truth(
    kafka_bootstrap: str, topic_prefix: str, database_url: str
) -> None:
    history = generate(seed=20260128)
    api_key = new_api_key()
    await publish(kafka_bootstrap, topic_prefix, events_of(history, api_key))
    settings = AnalyticsSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=topic_prefix,
        database_url=database_url,
    )
    app = create_app(settings)
    app.dependency_overrides[current_time] = pinned_now
    async with served(app, headers=OPERATOR, ready=calls_caught_up) as client:
        await check_reports(client, history)
        await check_csv(client, history)
        await check_pages(client, history)
        await check_tenant_key(client, history, {"Authorization": f"Bearer {api_key[1]}"})
        await check_a_late_repeat_call(client, history, kafka_bootstrap, topic_prefix)


WEEK = (H0 - 24 * HOUR, H0 + 7 * 24 * HOUR)
COUNTED = ("short_abandoned", "answered_within_threshold", "fcr_calls", "fcr_resolved")


async def report(
    client: httpx.AsyncClient, params: dict[str, str], **headers: str
) -> list[dict[str, Any]]:
    """Every row of the report, page after page (`next_cursor`)."""
    rows: list[dict[str, Any]] = []
    cursor: dict[str, str] = {}
    while True:
        answer = await client.get(
            "/v1/analytics/calls", params=params | cursor, headers=headers or None
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["formula_version"], body["as_of"]) == ("calls/2", NOW.isoformat())
        rows += body["rows"]
        if body["next_cursor"] is None:
            return rows
        cursor = {"cursor": body["next_cursor"]}


async def check_pages(client: httpx.AsyncClient, history: History) -> None:
    """Small pages add up to the whole report; a cursor only serves its own query."""
    params = {"interval": "day", "group_by": "topic", "from": WEEK[0].isoformat()}
    params["to"] = WEEK[1].isoformat()
    whole = expected(history, *WEEK, "day", ["topic"])
    assert len(whole) > 7
    assert await report(client, params | {"limit": "7"}) == whole
    first = await client.get("/v1/analytics/calls", params=params | {"limit": "7"})
    cursor = first.json()["next_cursor"]
    other = await client.get(
        "/v1/analytics/calls", params=params | {"limit": "7", "interval": "hour", "cursor": cursor}
    )
    assert other.status_code == 400, other.text
    assert "another query" in other.json()["detail"]
    forged = await client.get("/v1/analytics/calls", params=params | {"cursor": "bm9wZQ"})
    assert forged.status_code == 400, forged.text
    csv_page = await client.get(
        "/v1/analytics/calls", params=params | {"limit": "7"}, headers={"Accept": "text/csv"}
    )
    assert len(list(csv.DictReader(io.StringIO(csv_page.text)))) == 7
    assert csv_page.headers["link"].endswith('>; rel="next"')


async def check_reports(client: httpx.AsyncClient, history: History) -> None:
    cases = [
        ("day", [], WEEK, None),
        ("hour", ["topic", "language"], (H0 + 70 * HOUR, H0 + 80 * HOUR), "acme"),
        ("week", ["agent", "direction"], WEEK, None),
        ("month", ["campaign", "segment.region"], WEEK, None),
        ("day", ["segment.products", "segment.tier"], (H0 + 2 * HOUR, H0 + 100 * HOUR), "globex"),
    ]
    rows = await report(client, {"from": WEEK[0].isoformat(), "to": WEEK[1].isoformat()})
    totals = {name: sum(row[name] for row in rows) for name in COUNTED}
    assert all(totals[name] > 50 for name in COUNTED), totals  # the history is not trivial
    assert totals["fcr_calls"] - totals["fcr_resolved"] > 50, totals
    for interval, group_by, (start, end), tenant in cases:
        params = {
            "interval": interval,
            "group_by": ",".join(group_by),
            "from": start.astimezone(BERLIN).isoformat(),
            "to": end.isoformat(),
        }
        if tenant:
            params["tenant_id"] = tenant
        rows = await report(client, params)
        assert rows == expected(history, start, end, interval, group_by, tenant), (
            interval,
            group_by,
        )
    unknown = await client.get("/v1/analytics/calls", params={"group_by": "topic,mood"})
    assert unknown.status_code == 400
    assert "segment.<name>" in unknown.json()["detail"]
    ancient = {"from": "0001-01-01T00:00:00+14:00", "to": "0001-01-02T00:00:00Z"}
    assert (await client.get("/v1/analytics/calls", params=ancient)).status_code == 400


async def check_csv(client: httpx.AsyncClient, history: History) -> None:
    params = {
        "interval": "day",
        "group_by": "direction,topic",
        "from": WEEK[0].isoformat(),
        "to": WEEK[1].isoformat(),
    }
    answer = await client.get("/v1/analytics/calls", params=params, headers={"Accept": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    want = expected(history, *WEEK, "day", ["direction", "topic"])
    text_rows = [{k: "" if v is None else str(v) for k, v in row.items()} for row in want]
    assert list(csv.DictReader(io.StringIO(answer.text))) == text_rows


async def check_tenant_key(
    client: httpx.AsyncClient, history: History, key: dict[str, str]
) -> None:
    params = {
        "interval": "week",
        "group_by": "topic",
        "from": WEEK[0].isoformat(),
        "to": WEEK[1].isoformat(),
    }
    rows = await report(client, params, **key)
    assert rows == expected(history, *WEEK, "week", ["topic"], "acme")
    foreign = await client.get(
        "/v1/analytics/calls", params=params | {"tenant_id": "globex"}, headers=key
    )
    assert foreign.status_code == 404


async def check_a_late_repeat_call(
    client: httpx.AsyncClient, history: History, bootstrap: str, prefix: str
) -> None:
    """A repeat call that reaches the log late turns a resolved call into an unresolved one:
    the next report, waiting for its position, counts it (nothing stored goes stale)."""
    resolved = next(
        c
        for c in history.calls
        if c.direction == "inbound"
        and c.wrapped
        and c.ended
        and c.ended + FCR_WINDOW <= NOW
        and not called_again(history, c)
    )
    assert resolved.ended is not None
    late = Call(
        "late-repeat", resolved.tenant_id, resolved.person, resolved.ended + HOUR, resolved.topic
    )
    late.abandoned = late.received + 2 * SECOND
    history.calls.append(late)
    history.calls_by_caller.clear()
    positions = await publish(bootstrap, prefix, call_events(history, late))
    params = {
        "interval": "day",
        "from": WEEK[0].isoformat(),
        "to": WEEK[1].isoformat(),
        "min_position": str(positions[-1]),
    }
    assert await report(client, params) == expected(history, *WEEK, "day", [])
