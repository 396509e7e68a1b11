"""Routing through the real broker and HTTP: who gets the call, and why, in every path."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any

import httpx
import orjson
import pytest
from callcenter_events import Envelope
from callcenter_events.topics import ROUTING
from callcenter_testkit import eventually
from callcenter_testkit.platform import Platform, create_tenant
from callcenter_testkit.traces import log_events

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

DE_BILLING = {"language": "de", "topic": "billing"}


@pytest.fixture(params=["sqlite"])
def database_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/analytics.sqlite3"


@pytest.fixture
def platform_env() -> dict[str, str]:
    """Snapshots every few facts: restarts here load one and fold only the facts after it."""
    return {"ROUTING_SNAPSHOT_EVERY_FACTS": "20", "ROUTING_SNAPSHOT_CHECK_S": "0.5"}


class Desk:
    """The agents' desktop and the telephony, as HTTP clients of routing and intake."""

    def __init__(self, client: httpx.AsyncClient, platform: Platform) -> None:
        self.client = client
        self.routing = platform.url("routing")
        self.intake = platform.url("intake")

    async def agent(self, agent_id: str, skills: dict[str, int], capacity: int = 1) -> None:
        url = f"{self.routing}/v1/agents/{agent_id}"
        body = {"name": agent_id.title(), "skills": skills, "capacity": capacity}
        answer = await self.client.put(url, json=body)
        assert answer.status_code == 201, answer.text
        status = await self.client.put(f"{url}/status", json={"status": "available"})
        assert status.status_code == 200, status.text
        assert status.json()["status"] == "available"

    async def call(self, tenant_id: str, **fields: object) -> str:
        body = {"tenant_id": tenant_id, "caller_phone": "+4930123456", **DE_BILLING, **fields}
        answer = await self.client.post(f"{self.intake}/v1/calls", json=body)
        assert answer.status_code == 202, answer.text
        call_id: str = answer.json()["call_id"]
        return call_id

    async def view(self, agent_id: str) -> dict[str, Any]:
        answer = await self.client.get(f"{self.routing}/v1/agents/{agent_id}")
        assert answer.status_code == 200, answer.text
        view: dict[str, Any] = answer.json()
        return view

    async def offer_for(self, agent_id: str, call_id: str, timeout: float = 15) -> str:
        async def offered() -> str | None:
            offers = (await self.view(agent_id))["offers"]
            return next((o["offer_id"] for o in offers if o["call_id"] == call_id), None)

        offer_id: str = await eventually(offered, timeout=timeout, what=f"offer to {agent_id}")
        return offer_id

    async def answer(self, offer_id: str, verb: str) -> dict[str, Any]:
        answer = await self.client.post(f"{self.routing}/v1/offers/{offer_id}/{verb}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def routing_of(self, call_id: str, position: str | None = None) -> dict[str, Any]:
        params = {"min_position": position} if position else {}
        answer = await self.client.get(f"{self.routing}/v1/calls/{call_id}/routing", params=params)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def call_state(self, call_id: str) -> dict[str, Any]:
        answer = await self.client.get(f"{self.intake}/v1/calls/{call_id}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def policy(self, tenant_id: str, **policy: object) -> None:
        url = f"{self.routing}/v1/routing-policies/{tenant_id}"
        answer = await self.client.put(url, json=policy)
        assert answer.status_code == 200, answer.text


def skills(tenant: str, **levels: int) -> dict[str, int]:
    return {f"tenant:{tenant}": 1, **{k.replace("_", ":", 1): v for k, v in levels.items()}}


async def test_the_qualified_agent_gets_the_call_and_the_decision_says_why(
    platform: Platform,
) -> None:
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        desk = Desk(client, platform)
        await create_tenant(client, platform, "acme")
        await desk.agent("idle-en", skills("acme", lang_en=9, topic_billing=9))  # idle longer
        await desk.agent("near-de", skills("acme", lang_de=2, topic_billing=9))  # de too weak
        await desk.agent("de-billing", skills("acme", lang_de=5, topic_billing=3))
        call_id = await desk.call("acme", required_skills={"lang:de": 3})

        offer_id = await desk.offer_for("de-billing", call_id)
        assert (await desk.view("idle-en"))["offers"] == []
        accepted = await desk.answer(offer_id, "accept")
        assert accepted["call_id"] == call_id

        routing = await desk.routing_of(call_id, accepted["position"])
        [decision] = routing["decisions"]
        assert decision["agent_id"] == "de-billing"
        assert decision["outcome"] == "accepted"
        assert decision["step"] == 0
        assert decision["requirements"] == {
            "tenant:acme": 1,
            "lang:de": 3,
            "topic:billing": 1,
        }
        reasons = {c["agent_id"]: c["reason"] for c in decision["candidates"]}
        assert reasons == {"de-billing": "eligible", "near-de": "level 2 < 3 in lang:de"}
        assert decision["tie_break"] == "only one eligible agent"

        async def connected() -> dict[str, Any] | None:
            view = await desk.call_state(call_id)
            return view if view["state"] == "connected" else None

        assert (await eventually(connected, what="connected in intake"))["agent_id"] == "de-billing"
        assert (await desk.view("de-billing"))["status"] == "on_call"

        hangup = await client.post(f"{desk.intake}/v1/calls/{call_id}/hangup", json={"by": "agent"})
        assert hangup.status_code == 202, hangup.text

        async def status_is(wanted: str) -> bool:
            status: str = (await desk.view("de-billing"))["status"]
            return status == wanted

        await eventually(lambda: status_is("wrap_up"), what="wrap-up after the call ended")
        wrap = await client.post(
            f"{desk.intake}/v1/calls/{call_id}/wrap-up", json={"disposition": "resolved"}
        )
        assert wrap.status_code == 202, wrap.text
        await eventually(lambda: status_is("available"), what="available after wrap-up")


async def test_best_skill_takes_the_most_skilled_longest_idle_the_longest_free(
    platform: Platform,
) -> None:
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        desk = Desk(client, platform)
        for tenant in ("acme", "globex"):
            await create_tenant(client, platform, tenant)
        both = {"tenant:acme": 1, "tenant:globex": 1, "lang:de": 5}
        await desk.agent("rookie", both | {"topic:billing": 2}, capacity=2)  # free the longest
        await desk.agent("veteran", both | {"topic:billing": 9}, capacity=2)
        await desk.policy("acme", selection="best_skill")

        by_idle = await desk.call("globex")
        await desk.offer_for("rookie", by_idle)
        by_skill = await desk.call("acme")
        await desk.offer_for("veteran", by_skill)

        async def decided(call_id: str) -> dict[str, Any] | None:
            decisions = (await desk.routing_of(call_id))["decisions"]
            return decisions[0] if decisions else None

        idle = await eventually(lambda: decided(by_idle), what="decision recorded")
        skill = await eventually(lambda: decided(by_skill), what="decision recorded")
        assert (idle["selection"], idle["tie_break"]) == ("longest_idle", "none: longest idle")
        assert (skill["selection"], skill["tie_break"]) == (
            "best_skill",
            "none: highest summed skill level",
        )
        scores = {c["agent_id"]: c["score"] for c in skill["candidates"]}
        assert scores == {"veteran": 1 + 5 + 9, "rookie": 1 + 5 + 2}


async def test_a_rejected_then_missed_call_returns_to_its_place_until_accepted(
    platform: Platform,
) -> None:
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        desk = Desk(client, platform)
        await create_tenant(client, platform, "acme")
        await desk.policy("acme", offer_timeout_s=1)
        await desk.agent("first", skills("acme", lang_de=5, topic_billing=5))
        await desk.agent("second", skills("acme", lang_de=5, topic_billing=5))
        call_id = await desk.call("acme")

        await desk.answer(await desk.offer_for("first", call_id), "reject")
        await desk.offer_for("second", call_id)  # ... and nobody answers it

        async def away() -> bool:
            status: str = (await desk.view("second"))["status"]
            return status == "away"

        await eventually(away, timeout=10, what="missed offer sets the agent away")
        assert (await desk.view("first"))["offers"] == [], "a decliner never gets it again"

        async def queued_again() -> bool:
            state: str = (await desk.call_state(call_id))["state"]
            return state == "queued"

        await eventually(queued_again, what="intake shows the call queued again")

        back = await client.put(
            f"{desk.routing}/v1/agents/second/status", json={"status": "available"}
        )
        assert back.status_code == 200, back.text
        accepted = await desk.answer(await desk.offer_for("second", call_id), "accept")
        routing = await desk.routing_of(call_id, accepted["position"])
        assert [(d["agent_id"], d["outcome"]) for d in routing["decisions"]] == [
            ("first", "rejected"),
            ("second", "missed"),
            ("second", "accepted"),
        ]
        reasons = {c["agent_id"]: c["reason"] for c in routing["decisions"][2]["candidates"]}
        assert reasons["first"] == "declined this call"
        late = await client.post(
            f"{desk.routing}/v1/offers/{routing['decisions'][1]['offer_id']}/accept"
        )
        assert late.status_code == 409, late.text
        assert "missed" in late.json()["detail"]


async def test_escalation_relaxes_the_requirements_after_its_step_time(
    platform: Platform,
) -> None:
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        desk = Desk(client, platform)
        await create_tenant(client, platform, "acme")
        await desk.policy("acme", escalation=[{"after_s": 2, "drop_skills": ["topic:billing"]}])
        await desk.agent("generalist", skills("acme", lang_de=4, topic_sales=8))
        call_id = await desk.call("acme")

        offer_id = await desk.offer_for("generalist", call_id, timeout=15)

        async def recorded() -> dict[str, Any] | None:
            routing = await desk.routing_of(call_id)
            return routing if routing["decisions"] else None

        routing = await eventually(recorded, what="the decision in the projection")
        [decision] = routing["decisions"]
        assert decision["offer_id"] == offer_id
        assert decision["step"] == 1
        assert "topic:billing" not in decision["requirements"]
        waited = _seconds(decision["time"]) - _seconds(routing["queued_at"])
        assert waited >= 2.0, f"offered after {waited:.3f} s, before the step began"
        timeline = [item["type"] for item in (await desk.call_state(call_id))["timeline"]]
        assert "call.escalated" in timeline


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


CALLS_IN_STREAM = 36


async def test_routing_killed_during_a_stream_of_calls_loses_none_and_offers_each_once(
    platform: Platform, kafka_bootstrap: str
) -> None:
    """SIGKILL routing while calls arrive and agents work; restart it; every call completes."""
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        desk = Desk(client, platform)
        await create_tenant(client, platform, "acme")
        agents = [f"agent-{n}" for n in range(4)]
        for agent_id in agents:
            await desk.agent(agent_id, skills("acme", lang_de=5, topic_billing=5))
        working = asyncio.create_task(_agents_at_work(desk, agents))
        try:
            calls = [await desk.call("acme") for _ in range(CALLS_IN_STREAM // 3)]
            await eventually(lambda: _snapshot_taken(desk), what="a snapshot before the kill")
            platform.services["routing"].kill()
            calls += [await desk.call("acme") for _ in range(CALLS_IN_STREAM // 3)]
            await asyncio.to_thread(platform.restart, "routing")
            calls += [await desk.call("acme") for _ in range(CALLS_IN_STREAM // 3)]

            async def all_completed() -> bool:
                states = [(await desk.call_state(c))["state"] for c in calls]
                return all(state == "completed" for state in states)

            await eventually(all_completed, timeout=120, interval=0.5, what="every call done")
        finally:
            working.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await working
    facts = await log_events(kafka_bootstrap, [ROUTING.name(platform.topic_prefix)])
    checked = _each_call_offered_once_at_a_time(facts, set(calls))
    rebuilds = _rebuilds(platform.services["routing"].log_tail(2000))
    assert rebuilds[-1]["snapshot_seq"], "the restart began from a snapshot"
    print(f"routing killed once: {len(calls)} calls, {checked} routing facts checked; {rebuilds}")


async def _snapshot_taken(desk: Desk) -> bool:
    metrics = (await desk.client.get(f"{desk.routing}/metrics")).text
    line = next(m for m in metrics.splitlines() if m.startswith("callcenter_routing_snapshot_seq"))
    return float(line.split()[-1]) > 0


def _rebuilds(log: str) -> list[dict[str, Any]]:
    lines = [orjson.loads(line) for line in log.splitlines() if '"routing_rebuilt"' in line]
    return [{k: line.get(k) for k in ("snapshot_seq", "facts_folded", "seconds")} for line in lines]


async def _agents_at_work(desk: Desk, agents: list[str]) -> None:
    """Accept every offer, talk briefly, hang up, wrap up; shrug off routing being down."""
    while True:
        for agent_id in agents:
            with contextlib.suppress(httpx.HTTPError, AssertionError):
                await _work(desk, await desk.view(agent_id))
        await asyncio.sleep(0.05)  # an agent's desktop polling its view


async def _work(desk: Desk, view: dict[str, Any]) -> None:
    for offer in view["offers"]:
        await desk.client.post(f"{desk.routing}/v1/offers/{offer['offer_id']}/accept")
    for call_id in view["calls"]:
        state = (await desk.call_state(call_id))["state"]
        if state == "connected":
            await desk.client.post(f"{desk.intake}/v1/calls/{call_id}/hangup", json={"by": "agent"})
        elif state == "wrap_up":
            wrap_up = {"disposition": "resolved"}
            await desk.client.post(f"{desk.intake}/v1/calls/{call_id}/wrap-up", json=wrap_up)


def _each_call_offered_once_at_a_time(facts: list[Envelope], calls: set[str]) -> int:
    """Per call, in log order: queued once, offers never overlapping, connected once."""
    by_call: dict[str, list[str]] = {}
    for envelope in facts:
        call_id = getattr(envelope.data, "call_id", None)
        if call_id in calls:
            by_call.setdefault(call_id, []).append(envelope.type)
    assert set(by_call) == calls, "every call reached routing"
    for call_id, types in by_call.items():
        assert types.count("call.queued") == 1, (call_id, types)
        assert types.count("call.connected") == 1, (call_id, types)
        open_offers = 0
        for event_type in types:
            open_offers += event_type == "call.offered"
            open_offers -= event_type in CLOSES
            assert open_offers in (0, 1), (call_id, types)
        assert open_offers == 0, (call_id, types)
    return sum(len(types) for types in by_call.values())


CLOSES = {"call.connected", "offer.rejected", "offer.missed", "offer.withdrawn"}
