"""Two instances of each service side by side: the load divides; one dies, the other takes over.

A second instance of each of the four services joins the module's platform (same settings,
same consumer groups, same databases, other ports). Calls go through a client-side balancer
(`callcenter_testkit.scaleout.Balancer`, what a Kubernetes Service does) to both intake
instances, survey answers to both surveys instances, agents' commands to routing's owner.

- Divided: every consumer group of intake, surveys and analytics holds its topics' partitions
  split between the two instances (the shares add up to the topic, none idle where a topic has
  two or more), and under load both instances' consumed counters grow. Routing is different:
  one active owner of the agent pool consumes intake's calls (group `routing`, all
  partitions) and answers commands; the standby consumes none of them and refuses commands
  with 503 (its decision projection is divided like any projection).
- Taken over: one instance of each is killed (SIGKILL) at once: routing's owner, surveys'
  dialer owner, an intake and an analytics instance. The survivors hold every partition of
  every group (and are owners), their counters go on growing, the load goes on; after it
  stops, the oracle finds every acknowledged write in the log, nothing twice, and the
  survivors' reads (intake's states, analytics' totals) equal what the log says.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from callcenter_events.topics import CALLS, ROUTING
from callcenter_testkit import eventually
from callcenter_testkit.load import SteadyLoad
from callcenter_testkit.oracle import Oracle
from callcenter_testkit.platform import SERVICES, Platform
from callcenter_testkit.processes import ServiceProcess
from callcenter_testkit.scaleout import (
    Balancer,
    Scrape,
    divided,
    partition_counts,
    uncovered,
)
from callcenter_testkit.scenario import READY_S, Scenario
from callcenter_testkit.tally import count

pytestmark = [
    pytest.mark.faults,
    pytest.mark.kafka,
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.timeout(420),
]

RATE = 6.0
"""Calls per second: modest, eight services share two cores here."""
AGENTS = 8
STEP = 30
"""Calls acknowledged per phase of the load."""
TAKEOVER_S = 90.0


@pytest.fixture(scope="module")
def seconds(platform: Platform) -> Iterator[dict[str, ServiceProcess]]:
    """A second instance of each service (same env and groups, other port), ready."""
    started = {service: platform.another(service) for service in SERVICES}
    try:
        for process in started.values():
            process.wait_ready(READY_S)
        yield started
    finally:
        for process in started.values():
            process.stop()


@dataclass
class Side:
    """The two instances of each service, behind one balancer, and the topics' sizes."""

    scenario: Scenario
    pairs: dict[str, list[ServiceProcess]]
    balancer: Balancer
    client: httpx.AsyncClient
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return self.scenario.platform.topic_prefix

    @property
    def calls_group(self) -> str:
        """Routing's consumer of intake's calls: in the owner only."""
        return f"{self.prefix}routing"

    @property
    def busy_topics(self) -> set[str]:
        """Topics every call writes to."""
        return {CALLS.name(self.prefix), ROUTING.name(self.prefix)}

    async def scrape(self, processes: Sequence[ServiceProcess]) -> list[Scrape]:
        return list(await asyncio.gather(*(Scrape.of(self.client, p.url) for p in processes)))

    async def learn_sizes(self, held: Iterable[tuple[str, str]]) -> None:
        topics = {topic for _group, topic in held} - set(self.sizes)
        if topics:
            self.sizes.update(await partition_counts(self.scenario.bootstrap, topics))


async def test_two_instances_divide_the_load_and_take_over(
    scenario: Scenario, seconds: dict[str, ServiceProcess]
) -> None:
    platform = scenario.platform
    pairs = {s: [platform.services[s], seconds[s]] for s in SERVICES}
    balancer = Balancer({s: [p.url for p in pairs[s]] for s in SERVICES}, owner_pools=["routing"])
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(
        transport=balancer, headers=platform.auth, timeout=30, limits=limits
    ) as client:
        side = Side(scenario, pairs, balancer, client)
        owners = await divided_between_both(side)
        load = SteadyLoad(
            client, balancer.urls(), scenario.tenant, scenario.survey_id, agents=AGENTS, rate=RATE
        )
        await load.start()
        await both_consume(side, load, standby=owners["routing"][1])
        victims = {
            "intake": pairs["intake"][0],
            "routing": owners["routing"][0],
            "surveys": owners["surveys"][0],
            "analytics": pairs["analytics"][0],
        }
        survivors = {s: next(p for p in pairs[s] if p is not victims[s]) for s in SERVICES}
        for victim in victims.values():
            victim.kill()
        await taken_over(side, load, survivors)
        tally = await load.stop()
        oracle = Oracle(
            client,
            scenario.bootstrap,
            side.prefix,
            balancer.urls(),
            survivors["analytics"].url,
            scenario.tenant,
            scenario.survey_id,
        )
        checked = await oracle.check(tally.acks, load.agent_ids)
    assert not tally.given_up, tally.given_up
    count("scale-out", "instances started", len(seconds))
    count("scale-out", "instances killed", len(victims))
    count("scale-out", "calls", checked.calls)
    count("scale-out", "acknowledged writes checked", checked.acks)
    count("scale-out", "records checked", checked.records)
    print(
        f"scale-out: {len(tally.calls)} calls, {checked.acks} acknowledged writes all in the log,"
        f" {checked.records} records read, states {checked.states}, {checked.timelines}"
        f" timelines and analytics' totals agree; refused {dict(tally.refused)},"
        f" connections refused by the dead {dict(balancer.refused_connection)},"
        f" conflicts {dict(tally.conflicts)}, server errors {tally.server_errors[:3]}"
    )


async def divided_between_both(side: Side) -> dict[str, tuple[ServiceProcess, ServiceProcess]]:
    """Every group's partitions split between the two instances; routing's calls and the
    dialer each in one owner. Answers (owner, standby) of routing and of the dialer."""

    async def split() -> bool:
        for service, pair in side.pairs.items():
            a, b = (s.partitions() for s in await side.scrape(pair))
            await side.learn_sizes(a | b)
            if service == "routing":
                routers = [held for held in (a, b) if side.calls_group in {g for g, _t in held}]
                assert len(routers) == 1, f"routing: {len(routers)} instances consume calls"
                a = {k: v for k, v in a.items() if k[0] != side.calls_group}
                b = {k: v for k, v in b.items() if k[0] != side.calls_group}
            wrong = divided(a, b, side.sizes)
            assert not wrong, f"{service}: {wrong}"
        return True

    await eventually(split, timeout=TAKEOVER_S, interval=0.5, what="partitions divided")
    owners = {}
    for service, group in (("routing", "routing.owner"), ("surveys", "surveys.dialer")):
        pair = side.pairs[service]
        flags = [s.owner(group) for s in await side.scrape(pair)]
        assert sorted(flags) == [False, True], f"{group}: owner gauges {flags}"
        owners[service] = (pair[flags.index(True)], pair[flags.index(False)])
    (routing_owner,) = await side.scrape([owners["routing"][0]])
    calls = CALLS.name(side.prefix)
    assert routing_owner.partitions()[(side.calls_group, calls)] == side.sizes[calls]
    count("scale-out", "consumer groups found divided", len(side.sizes))
    return owners


async def both_consume(side: Side, load: SteadyLoad, standby: ServiceProcess) -> None:
    """Under load, each instance's consumers of the busy topics consume; intake's POSTs divide."""
    await load.acknowledged_calls(STEP)
    before = {s: await side.scrape(pair) for s, pair in side.pairs.items()}
    answered = side.balancer.share("intake")
    await load.acknowledged_calls(STEP)
    after = {s: await side.scrape(pair) for s, pair in side.pairs.items()}
    answered = {url: n - answered[url] for url, n in side.balancer.share("intake").items()}
    shares: dict[str, list[int]] = {}
    for service, pair in side.pairs.items():
        shares[service] = []
        for process, first, then in zip(pair, before[service], after[service], strict=True):
            grown = {
                key: then.consumed().get(key, 0) - first.consumed().get(key, 0)
                for key, held in then.partitions().items()
                if held and key[1] in side.busy_topics
            }
            idle = [key for key, n in grown.items() if n <= 0]
            assert grown, f"{service} at {process.url} holds none of {side.busy_topics}"
            assert not idle, f"{service} at {process.url} consumed nothing of {idle}"
            if process is standby:
                assert side.calls_group not in {g for g, _t in grown}, "the standby routes"
            shares[service].append(sum(grown.values()))
    posted = [
        b.requests("POST", "/v1/calls") - a.requests("POST", "/v1/calls")
        for a, b in zip(before["intake"], after["intake"], strict=True)
    ]
    assert min(posted) > 0, f"POST /v1/calls per intake instance: {posted}"
    await same_totals(side, load.tenant)
    print(
        f"scale-out: records of the calls and routing topics consumed per instance {shares};"
        f" POST /v1/calls answered per intake instance {posted};"
        f" intake requests per instance {list(answered.values())}"
    )


async def same_totals(side: Side, tenant: str) -> None:
    """Both analytics instances answer the tenant's call KPIs alike, while each projects only
    its share of the partitions (they share one database; each with its own would not)."""
    now = datetime.now(UTC)
    params = {
        "from": (now - timedelta(days=2)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
        "interval": "month",
        "tenant_id": tenant,
    }
    last: list[object] = []

    async def alike() -> bool:
        answers = await asyncio.gather(
            *(
                side.client.get(f"{p.url}/v1/analytics/calls", params=params)
                for p in side.pairs["analytics"]
            )
        )
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        rows = [a.json()["rows"] for a in answers]
        last[:] = rows
        return bool(rows[0]) and rows[0] == rows[1]

    try:
        await eventually(alike, timeout=30, interval=0.3, what="analytics instances alike")
    except AssertionError:
        raise AssertionError(f"the analytics instances answer differently: {last}") from None


async def taken_over(side: Side, load: SteadyLoad, survivors: dict[str, ServiceProcess]) -> None:
    """Each survivor holds every partition (and owns); the load goes on; its counters grow."""
    killed_at = time.monotonic()
    seconds: dict[str, float] = {}

    async def took_over(service: str) -> None:
        survivor = survivors[service]

        async def holds_all() -> bool:
            (now,) = await side.scrape([survivor])
            missing = uncovered(now.partitions(), side.sizes)
            assert not missing, missing
            if service == "routing":
                assert now.owner("routing.owner"), "routing's standby is not the owner"
                assert (side.calls_group, CALLS.name(side.prefix)) in now.partitions()
            if service == "surveys":
                assert now.owner("surveys.dialer"), "the dialer has no owner"
            return True

        await eventually(holds_all, timeout=TAKEOVER_S, interval=0.2, what=f"{service} took over")
        seconds[service] = round(time.monotonic() - killed_at, 1)

    await asyncio.gather(*(took_over(service) for service in SERVICES))
    agent = f"{side.balancer.url('routing')}/v1/agents/{load.agent_ids[0]}"

    async def routing_serves() -> bool:
        return (await side.client.get(agent)).status_code == 200

    await eventually(routing_serves, timeout=TAKEOVER_S, what="routing's new owner serving")
    seconds["routing serves"] = round(time.monotonic() - killed_at, 1)
    count("scale-out", "takeovers checked", len(SERVICES))
    print(f"scale-out: seconds from the SIGKILL to the survivor holding everything {seconds}")

    first = {s: await side.scrape([p]) for s, p in survivors.items()}
    await load.acknowledged_calls(STEP, timeout=120)
    then = {s: await side.scrape([p]) for s, p in survivors.items()}
    for service in SERVICES:
        (a,), (b,) = first[service], then[service]
        stalled = [
            key
            for key in b.partitions()
            if key[1] in side.busy_topics and b.consumed().get(key, 0) <= a.consumed().get(key, 0)
        ]
        assert not stalled, f"{service}'s survivor stopped consuming {stalled}"
