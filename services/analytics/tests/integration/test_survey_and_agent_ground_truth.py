"""Occupancy and NPS/CSAT over real HTTP equal the figures worked out from the generated data.

A seeded shift: agents go available, away, take calls (offered at an escalation step, connected,
ended, wrapped up or not) and go offline; customers answer a survey after some calls, some with
a campaign, all with a region. The events go to the real broker, the analytics service reads
them into SQLite or PostgreSQL, and its answers are compared, exactly, with sums computed here
straight from the generated spans, calls and responses (never through the service's code).
"""

from __future__ import annotations

import contextlib
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from analytics.app import create_app
from analytics.settings import AnalyticsSettings
from callcenter_events import Envelope, Event, wrap
from callcenter_events import models as ev
from callcenter_events.producer import EventProducer
from callcenter_service.directory import hash_key, new_api_key
from callcenter_service.settings import DEVELOPMENT_OPERATOR_TOKEN
from callcenter_testkit import inprocess
from fastapi import FastAPI

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
SHIFT = datetime(2026, 3, 2, 8, tzinfo=UTC)
SHIFT_END = SHIFT + timedelta(hours=4)
AGENTS = 8
OPERATOR = {"Authorization": f"Bearer {DEVELOPMENT_OPERATOR_TOKEN}"}
SURVEY, OTHER_SURVEY = "sv-acme", "sv-globex"
BANDS = ((20, "0-20"), (60, "20-60"), (180, "60-180"))


@dataclass
class Call:
    call_id: str
    tenant_id: str
    agent_id: str
    step: int
    received: datetime
    connected: datetime
    ended: datetime
    wrapped: datetime
    wrap_reported: bool


@dataclass
class Response:
    response_id: str
    call: Call | None
    nps: int | None
    csat: int | None
    campaign: str | None
    region: str


@dataclass
class Shift:
    """What happened, as plain values, and the events that tell it."""

    spans: list[tuple[str, str, datetime, datetime]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    responses: list[Response] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    seq: int = 0

    def fact(self, make: Callable[[int], Event]) -> None:
        self.seq += 1
        self.events.append(make(self.seq))


# --- the generated shift ------------------------------------------------------------------


def generate(seed: int) -> Shift:
    rng = random.Random(seed)
    shift = Shift()
    for n in range(AGENTS):
        agent_shift(rng, shift, f"agent-{n}")
    for call in shift.calls:
        if call.tenant_id == "acme" and rng.random() < 0.85:
            respond(rng, shift, call)
    for n in range(3):
        respond(rng, shift, None, f"no-call-{n}")
    return shift


def agent_shift(rng: random.Random, shift: Shift, agent: str) -> None:
    shift.names[agent] = f"Agent {agent[-1]}"
    skills = {"tenant:acme": 5, "tenant:globex": 3, "lang:de": 6, "topic:billing": 4}
    shift.fact(
        lambda seq: ev.AgentUpdated(
            seq=seq,
            agent_id=agent,
            name=shift.names[agent],
            skills=skills,
            capacity=1,
            updated_at=SHIFT,
        )
    )
    now = SHIFT + timedelta(seconds=rng.randint(0, 900))
    presence(shift, agent, now, ev.Presence.AVAILABLE)
    while now < SHIFT_END - timedelta(minutes=20):
        since, now = now, now + timedelta(seconds=rng.randint(5, 400))
        shift.spans.append((agent, "available", since, now))
        now = (
            take_call(rng, shift, agent, now)
            if rng.random() < 0.75
            else away(rng, shift, agent, now)
        )
    since, now = now, now + timedelta(seconds=rng.randint(1, 300))
    shift.spans.append((agent, "available", since, now))
    presence(shift, agent, now, ev.Presence.OFFLINE)


def presence(shift: Shift, agent: str, at: datetime, to: ev.Presence) -> None:
    status_change(shift, agent, at, ev.AgentStatus(to.value), to, ev.AgentChange.PRESENCE, None)


def status_change(
    shift: Shift,
    agent: str,
    at: datetime,
    status: ev.AgentStatus,
    presence: ev.Presence,
    change: ev.AgentChange,
    call_id: str | None,
) -> None:
    shift.fact(
        lambda seq: ev.AgentStatusChanged(
            seq=seq,
            agent_id=agent,
            status=status,
            presence=presence,
            change=change,
            reason="generated",
            call_id=call_id,
            changed_at=at,
        )
    )


def away(rng: random.Random, shift: Shift, agent: str, now: datetime) -> datetime:
    presence(shift, agent, now, ev.Presence.AWAY)
    back = now + timedelta(seconds=rng.randint(60, 900))
    presence(shift, agent, back, ev.Presence.AVAILABLE)
    return back


def take_call(rng: random.Random, shift: Shift, agent: str, connected: datetime) -> datetime:
    call = Call(
        call_id=f"call-{len(shift.calls)}",
        tenant_id=rng.choice(["acme", "acme", "globex"]),
        agent_id=agent,
        step=rng.randint(0, 2),
        received=connected - timedelta(seconds=waited(rng)),
        connected=connected,
        ended=connected + timedelta(seconds=rng.randint(20, 900)),
        wrapped=datetime.min,
        wrap_reported=rng.random() < 0.9,
    )
    call.wrapped = call.ended + timedelta(seconds=rng.randint(3, 180))
    shift.calls.append(call)
    shift.spans.append((agent, "on_call", call.connected, call.ended))
    shift.spans.append((agent, "wrap_up", call.ended, call.wrapped))
    call_facts(shift, call)
    available = ev.Presence.AVAILABLE
    status_change(
        shift,
        agent,
        call.ended,
        ev.AgentStatus.WRAP_UP,
        available,
        ev.AgentChange.CALL_ENDED,
        call.call_id,
    )
    status_change(
        shift,
        agent,
        call.wrapped,
        ev.AgentStatus.AVAILABLE,
        available,
        ev.AgentChange.WRAPPED_UP,
        call.call_id,
    )
    return call.wrapped


def waited(rng: random.Random) -> int:
    """Seconds in the queue: every band about as often, its bounds included."""
    bands = [rng.randint(0, 19), rng.randint(20, 59), rng.randint(60, 179), rng.randint(180, 600)]
    return rng.choice([*bands, 20, 60, 180])


def call_facts(shift: Shift, call: Call) -> None:
    ids = {"call_id": call.call_id, "tenant_id": call.tenant_id}
    shift.events.append(
        ev.CallReceived(**ids, language="de", topic="billing", received_at=call.received)
    )
    offer = ids | {
        "offer_id": f"offer-{call.call_id}",
        "agent_id": call.agent_id,
        "offered_at": call.connected - timedelta(seconds=1),
        "expires_at": call.connected + timedelta(seconds=14),
    }
    shift.fact(
        lambda seq: ev.CallOffered(
            seq=seq,
            **offer,
            step=call.step,
            requirements={},
            selection=ev.Selection.LONGEST_IDLE,
            candidates=[],
            tie_break="only candidate",
            eligible_count=1,
            not_listed=0,
        )
    )
    shift.fact(lambda seq: ev.CallConnected(seq=seq, **offer, closed_at=call.connected))
    shift.events.append(ev.CallEnded(**ids, by=ev.HangupBy.CALLER, ended_at=call.ended))
    if call.wrap_reported:
        shift.events.append(
            ev.CallWrappedUp(**ids, disposition="solved", wrapped_up_at=call.wrapped)
        )


def respond(rng: random.Random, shift: Shift, call: Call | None, name: str = "") -> None:
    nps = rng.randint(0, 10) if rng.random() < 0.9 else None
    csat = rng.randint(1, 5) if nps is None or rng.random() < 0.8 else None
    response = Response(
        response_id=f"resp-{call.call_id if call else name}",
        call=call,
        nps=nps,
        csat=csat,
        campaign=rng.choice([None, "k1", "k2"]),
        region=rng.choice(["north", "south"]),
    )
    shift.responses.append(response)
    answers = {k: v for k, v in (("nps", nps), ("csat", csat)) if v is not None}
    shift.events.append(
        ev.SurveyAnswered(
            response_id=response.response_id,
            tenant_id="acme",
            survey_id=SURVEY,
            version=1,
            call_id=call.call_id if call else None,
            campaign_id=response.campaign,
            answers=answers,
            segment={"region": response.region},
            answered_at=(call.wrapped if call else SHIFT) + timedelta(minutes=1),
        )
    )


def surveys_and_tenants(api_key: tuple[str, str]) -> list[Event]:
    questions = [
        ev.Question(id="nps", type=ev.QuestionType.NPS, text="Recommend us?"),
        ev.Question(id="csat", type=ev.QuestionType.CSAT, text="Satisfied?"),
    ]
    key_id, token = api_key
    return [
        ev.TenantCreated(
            tenant_id="acme", name="Acme", settings=ev.TenantSettings(), created_at=SHIFT
        ),
        ev.ApiKeyCreated(
            tenant_id="acme",
            key_id=key_id,
            scopes=[ev.Scope.ANALYTICS_READ],
            key_hash=hash_key(token),
            created_at=SHIFT,
        ),
        *(
            ev.SurveyDefined(
                survey_id=survey,
                tenant_id=tenant,
                version=1,
                name="after the call",
                kind=ev.SurveyKind.POST_CALL,
                questions=questions,
                defined_at=SHIFT - timedelta(days=1),
            )
            for survey, tenant in ((SURVEY, "acme"), (OTHER_SURVEY, "globex"))
        ),
    ]


# --- the figures, worked out from the generated values --------------------------------------


def expected_agents(shift: Shift) -> list[dict[str, Any]]:
    seconds: defaultdict[tuple[datetime, str], dict[str, int]] = defaultdict(
        lambda: {"on_call": 0, "wrap_up": 0, "available": 0}
    )
    for agent, status, since, until in shift.spans:
        hour = since.replace(minute=0, second=0)
        while hour < until:
            overlap = min(until, hour + timedelta(hours=1)) - max(since, hour)
            if overlap > timedelta(0):
                seconds[(hour, agent)][status] += int(overlap.total_seconds())
            hour += timedelta(hours=1)
    handled: defaultdict[tuple[datetime, str], list[Call]] = defaultdict(list)
    for call in shift.calls:
        handled[(call.connected.replace(minute=0, second=0), call.agent_id)].append(call)
    rows = []
    for hour, agent in sorted(set(seconds) | set(handled)):
        s = seconds[(hour, agent)]
        busy, counted = s["on_call"] + s["wrap_up"], s["on_call"] + s["wrap_up"] + s["available"]
        calls = handled[(hour, agent)]
        done = [int((c.wrapped - c.connected).total_seconds()) for c in calls if c.wrap_reported]
        rows.append(
            {
                "period_start": hour.isoformat(),
                "agent_id": agent,
                "name": shift.names[agent],
                "talk_s": float(s["on_call"]),
                "wrap_up_s": float(s["wrap_up"]),
                "available_s": float(s["available"]),
                "occupancy": round(busy / counted, 4) if counted else None,
                "calls_handled": len(calls),
                "aht_s": round(sum(done) / len(done), 3) if done else None,
            }
        )
    return rows


def wait_band(call: Call | None) -> str | None:
    if call is None:
        return None
    wait = (call.connected - call.received).total_seconds()
    return next((label for upper, label in BANDS if wait < upper), ">180")


def expected_surveys(
    shift: Shift, group: Callable[[Response], Iterable[tuple[tuple[Any, ...], str]]]
) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """(group values) -> (responses, nps, csat, csat_mean); `group` yields (key, question)."""
    scores: defaultdict[tuple[Any, ...], dict[str, list[int]]] = defaultdict(
        lambda: {"nps": [], "csat": []}
    )
    responders: defaultdict[tuple[Any, ...], set[str]] = defaultdict(set)
    for response in shift.responses:
        for key, question in group(response):
            score = response.nps if question == "nps" else response.csat
            if score is not None:
                scores[key][question].append(score)
                responders[key].add(response.response_id)
    return {key: figures(len(responders[key]), s["nps"], s["csat"]) for key, s in scores.items()}


def figures(responses: int, nps: list[int], csat: list[int]) -> tuple[Any, ...]:
    promoters = len([s for s in nps if s >= 9])
    detractors = len([s for s in nps if s <= 6])
    return (
        responses,
        round(100 * (promoters - detractors) / len(nps), 2) if nps else None,
        round(len([s for s in csat if s >= 4]) / len(csat), 4) if csat else None,
        round(sum(csat) / len(csat), 4) if csat else None,
    )


def by_questions(key: Callable[[Response], tuple[Any, ...]]) -> Callable[[Response], Any]:
    return lambda r: [(key(r), q) for q in ("nps", "csat")]


def answered_figures(rows: list[dict[str, Any]], names: list[str]) -> dict[Any, Any]:
    return {
        tuple(row[n] for n in names): (row["responses"], row["nps"], row["csat"], row["csat_mean"])
        for row in rows
    }


# --- the service --------------------------------------------------------------------------


async def publish(bootstrap: str, prefix: str, events: list[Event]) -> None:
    producer = EventProducer(bootstrap, client_id="ground-truth", topic_prefix=prefix)
    await producer.start()
    try:
        envelopes: list[Envelope] = [
            wrap(e, source="/test/ground-truth", correlation_id="corr") for e in events
        ]
        await producer.publish_all(envelopes)
    finally:
        await producer.stop()


def served(app: FastAPI) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
    """The app over real HTTP, once calls, agents and surveys are live and caught up."""

    async def caught_up(client: httpx.AsyncClient) -> bool:
        answer = await client.get("/v1/projections")
        if answer.status_code != 200:
            return False
        rows = answer.json()["projections"]
        done = {r["name"] for r in rows if r["state"] == "live" and r["lag"] == 0}
        return {"calls", "agents", "surveys"} <= done

    return inprocess.served(app, headers=OPERATOR, ready=caught_up, timeout=45)


async def test_occupancy_and_survey_figures_equal_the_generated_truth(
    kafka_bootstrap: str, topic_prefix: str, database_url: str
) -> None:
    shift = generate(seed=20261127)
    api_key = new_api_key()
    await publish(kafka_bootstrap, topic_prefix, surveys_and_tenants(api_key) + shift.events)
    settings = AnalyticsSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=topic_prefix,
        database_url=database_url,
    )
    async with served(create_app(settings)) as client:
        hours = {"from": SHIFT.isoformat(), "to": (SHIFT_END + timedelta(hours=1)).isoformat()}
        agents = await client.get("/v1/analytics/agents", params=hours | {"interval": "hour"})
        assert agents.status_code == 200, agents.text
        assert agents.json()["rows"] == expected_agents(shift)

        table = await client.get(
            "/v1/analytics/agents",
            params=hours | {"interval": "day"},
            headers={"Accept": "text/csv"},
        )
        assert table.text.splitlines()[0] == (
            "period_start,agent_id,name,talk_s,wrap_up_s,available_s,occupancy,calls_handled,aht_s"
        )
        assert len(table.text.splitlines()) == AGENTS + 1

        queues = await client.get("/v1/analytics/realtime")
        assert queues.status_code == 200, queues.text
        assert queues.json()["queues"] == []  # the shift's calls were all connected, long ago
        assert queues.json()["formula_version"] == "realtime/1"

        tenant = {"Authorization": f"Bearer {api_key[1]}"}
        refused = await client.get("/v1/analytics/agents", params=hours, headers=tenant)
        assert refused.status_code == 403

        await check_surveys(client, shift, tenant)


async def check_surveys(client: httpx.AsyncClient, shift: Shift, tenant: dict[str, str]) -> None:
    path = f"/v1/analytics/surveys/{SURVEY}"

    async def rows(group_by: str, **headers: str) -> list[dict[str, Any]]:
        answer = await client.get(path, params={"group_by": group_by}, headers=headers or None)
        assert answer.status_code == 200, answer.text
        assert answer.json()["formula_version"] == "surveys/2"
        found: list[dict[str, Any]] = answer.json()["rows"]
        return found

    by_path = await rows("wait,agent,step")
    assert answered_figures(by_path, ["wait", "agent", "step"]) == expected_surveys(
        shift,
        by_questions(
            lambda r: (
                wait_band(r.call),
                r.call.agent_id if r.call else None,
                r.call.step if r.call else None,
            )
        ),
    )
    by_campaign = await rows("campaign,segment.region")
    assert answered_figures(by_campaign, ["campaign", "segment.region"]) == expected_surveys(
        shift, by_questions(lambda r: (r.campaign, r.region))
    )
    by_question = await rows("question", **tenant)
    assert answered_figures(by_question, ["question"]) == expected_surveys(
        shift, lambda r: [((q,), q) for q in ("nps", "csat")]
    )
    foreign = await client.get(f"/v1/analytics/surveys/{OTHER_SURVEY}", headers=tenant)
    assert foreign.status_code == 404
