"""Benchmark (e): routing as a service, through the broker.

1. Call received -> offer recorded in Kafka at a steady 500 calls/s: the load generator
   writes `call.received` events to the calls topic; routing (`python -m routing`, with
   agents registered over its API) consumes them, decides and writes `call.offered`. Both
   topics stamp records with the broker's append time (`LogAppendTime`), so the latency of a
   call is the offer's append time minus the call's: "recorded in Kafka" on both ends, at the
   broker's millisecond resolution. The baseline is a bare relay process (`bench.bare_relay`)
   doing the least such a service must do, at the same rate, measured the same way.
2. Memory: the routing process's RSS idle (agents registered) and after the load.
3. Restart to ready after 1,000,000 facts: an engine driven in process produces the facts of
   a long day (agents, calls queued, offered, connected, ended, wrapped up; at the end calls
   waiting and offers open); they are written to the fact topics, then routing is started
   and timed from process start to `/readyz` answering 200: cold (its decisions projection
   reads the whole log too), restarted with its snapshot, and restarted with the snapshot
   deleted (the whole fold again: the baseline).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import secrets
import sqlite3
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from callcenter_events import Envelope, wrap
from callcenter_events.admin import ensure_topics
from callcenter_events.broadcast import partitions_of
from callcenter_events.models import CallReceived
from callcenter_events.producer import EventProducer
from callcenter_events.topics import ALL_TOPICS, CALLS, ROUTING
from routing.domain.decisions import (
    AgentChanged,
    AgentUpdated,
    CallEnqueued,
    Candidate,
    Decision,
    Effect,
    OfferEnded,
    OfferMade,
)
from routing.domain.model import AgentStatus, Offer, Presence, Selection
from routing.facts import event_of

from bench.kafka import publish_tenant
from bench.routing_bench import Latency
from bench.servers import REPO_ROOT, BenchError, Server, free_port, running_server

TENANT = "bench"
SKILLS = {f"tenant:{TENANT}": 1, "lang:de": 5, "topic:billing": 5}
NEEDS = {f"tenant:{TENANT}": 1, "lang:de": 1, "topic:billing": 1}
LANGUAGES = ("de", "en", "fr", "it", "es")
TOPICS = tuple(f"topic-{n}" for n in range(10))
APPEND_TIME = {"message.timestamp.type": "LogAppendTime"}
TOKEN = "bench-operator-token"
COLD_START_TIMEOUT_S = 900.0  # the first start on a million facts reads them all, twice


@dataclass(frozen=True, slots=True)
class RoutingServiceOptions:
    bootstrap_servers: str
    topic_prefix: str
    work_dir: Path
    rate: float = 500.0
    seconds: float = 20.0
    warmup: float = 3.0
    agents: int = 1000
    capacity: int = 20  # offers are never answered: agents x capacity >= calls sent
    facts: int = 1_000_000
    day_agents: int = 2000


@dataclass(frozen=True, slots=True)
class Restart:
    seconds: float
    rss_mb: float


@dataclass(frozen=True, slots=True)
class RoutingServiceResult:
    options: RoutingServiceOptions
    ours: Latency
    relay: Latency
    sent: int
    offered: int
    relayed: int
    rss_idle_mb: float
    rss_loaded_mb: float
    facts: int
    facts_written_s: float
    cold: Restart
    with_snapshot: Restart
    without_snapshot: Restart
    snapshot_kb: float

    def problems(self) -> list[str]:
        found = []
        if self.ours.p50_ms > 10 or self.ours.p99_ms > 50:
            found.append(f"received -> offered p50/p99 {self.ours.p50_ms}/{self.ours.p99_ms} ms")
        if self.with_snapshot.seconds > 10:
            found.append(f"restart after {self.facts} facts: {self.with_snapshot.seconds:.1f} s")
        return found


def run(options: RoutingServiceOptions) -> RoutingServiceResult:
    latency = _measure_latency(options)
    restarts = _measure_restarts(options)
    return RoutingServiceResult(options=options, **latency, **restarts)


# -- 1 and 2: latency and memory -----------------------------------------------------------------


def _measure_latency(options: RoutingServiceOptions) -> dict[str, Any]:
    prefix = f"{options.topic_prefix}lat-{secrets.token_hex(2)}."
    asyncio.run(_create_topics(options.bootstrap_servers, prefix))
    with _routing(options, prefix, "routing-latency") as server:
        asyncio.run(_register_agents(server, options))
        rss_idle = _rss_mb(server.pid)
        print(f"routing: {options.agents} agents registered, RSS {rss_idle:.0f} MB", flush=True)
        ours, sent, offered = asyncio.run(
            _load(options, prefix, CALLS.name(prefix), "call.offered")
        )
        rss_loaded = _rss_mb(server.pid)
    relay_prefix = f"{options.topic_prefix}relay-{secrets.token_hex(2)}."
    asyncio.run(_create_topics(options.bootstrap_servers, relay_prefix))
    source, target = CALLS.name(relay_prefix), ROUTING.name(relay_prefix)
    args = [options.bootstrap_servers, source, target, f"{relay_prefix}relay"]
    with _relay(options, args):
        relay, _sent, relayed = asyncio.run(_load(options, relay_prefix, source, None))
    return {
        "ours": ours,
        "relay": relay,
        "sent": sent,
        "offered": offered,
        "relayed": relayed,
        "rss_idle_mb": rss_idle,
        "rss_loaded_mb": rss_loaded,
    }


async def _create_topics(bootstrap: str, prefix: str) -> None:
    stamped = {CALLS.base_name, ROUTING.base_name}
    topics = [
        dataclasses.replace(t, extra_config={**t.extra_config, **APPEND_TIME})
        if t.base_name in stamped
        else t
        for t in ALL_TOPICS
    ]
    await ensure_topics(bootstrap, prefix=prefix, topics=topics)
    await publish_tenant(bootstrap, prefix, TENANT)


@contextmanager
def _routing(options: RoutingServiceOptions, prefix: str, name: str) -> Iterator[Server]:
    port = free_port()
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": options.bootstrap_servers,
        "CALLCENTER_TOPIC_PREFIX": prefix,
        "CALLCENTER_OPERATOR_TOKEN": TOKEN,
        "ROUTING_PORT": str(port),
        "ROUTING_DATABASE_URL": f"sqlite:///{options.work_dir / (prefix + 'routing.sqlite3')}",
        "ROUTING_HEARTBEAT_TIMEOUT_S": "36000",
        "LOG_LEVEL": "WARNING",
    }
    with running_server(
        name,
        ["-m", "routing"],
        port=port,
        ready_path="/readyz",
        env=env,
        log_dir=options.work_dir,
        ready_timeout_s=COLD_START_TIMEOUT_S,
    ) as server:
        yield server


@contextmanager
def _relay(options: RoutingServiceOptions, args: list[str]) -> Iterator[None]:
    """The relay has no HTTP: it is ready once its consumer has its partitions."""
    ready = options.work_dir / f"relay-{secrets.token_hex(3)}.ready"
    with (options.work_dir / "bare-relay.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.bare_relay", *args, str(ready)],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchError("the bare relay did not start; see bare-relay.log")
            time.sleep(0.1)  # polling interval
        yield
    finally:
        process.terminate()
        process.wait(15)


async def _register_agents(server: Server, options: RoutingServiceOptions) -> None:
    base = f"http://{server.host}:{server.port}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        policy = await client.put(f"/v1/routing-policies/{TENANT}", json={"offer_timeout_s": 600})
        _expect(policy, 200)
        for start in range(0, options.agents, 50):
            await asyncio.gather(
                *(
                    _agent(client, n, options.capacity)
                    for n in range(start, min(start + 50, options.agents))
                )
            )


def _skills_of(number: int) -> dict[str, int]:
    """Two languages and four topics each: a call finds about 1 agent in 30 qualified."""
    rng = random.Random(number)
    skills = {f"tenant:{TENANT}": 1}
    skills |= {f"lang:{lang}": rng.randint(3, 9) for lang in rng.sample(LANGUAGES, 2)}
    skills |= {f"topic:{topic}": rng.randint(3, 9) for topic in rng.sample(TOPICS, 4)}
    return skills


async def _agent(client: httpx.AsyncClient, number: int, capacity: int) -> None:
    body = {"name": f"Agent {number}", "skills": _skills_of(number), "capacity": capacity}
    _expect(await client.put(f"/v1/agents/a{number:05d}", json=body), 201)
    _expect(await client.put(f"/v1/agents/a{number:05d}/status", json={"status": "available"}), 200)


def _expect(answer: httpx.Response, status: int) -> None:
    if answer.status_code != status:
        raise BenchError(
            f"{answer.request.method} {answer.request.url}: {answer.status_code} {answer.text}"
        )


async def _load(
    options: RoutingServiceOptions, prefix: str, source: str, offered_type: str | None
) -> tuple[Latency, int, int]:
    """Calls at `rate` for warm-up plus `seconds`; latencies of the calls after the warm-up."""
    target = ROUTING.name(prefix)
    watcher = await _watch(options.bootstrap_servers, [source, target])
    producer = EventProducer(options.bootstrap_servers, client_id="bench-load", topic_prefix=prefix)
    await producer.start()
    try:
        measured, sent = await _send_calls(producer, options)
        seen = await _collect(watcher, source, target, offered_type, sent)
    finally:
        await producer.stop()
        await watcher.stop()
    received, answered = seen
    samples = [
        (answered[c] - received[c]) * 1_000_000 for c in measured if c in answered and c in received
    ]
    return Latency.of(samples), len(sent), len(answered)


async def _send_calls(
    producer: EventProducer, options: RoutingServiceOptions
) -> tuple[set[str], list[str]]:
    total = int(options.rate * (options.warmup + options.seconds))
    warm = int(options.rate * options.warmup)
    started = time.monotonic()
    deliveries = []
    sent: list[str] = []
    for n in range(total):
        delay = started + n / options.rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)  # the open loop's schedule, not a synchronisation
        call = _call(n)
        deliveries += await producer.enqueue_all([call])
        sent.append(call.data.call_id)  # type: ignore[attr-defined]
    await asyncio.gather(*deliveries)
    return set(sent[warm:]), sent


def _call(number: int) -> Envelope:
    call = CallReceived(
        call_id=f"bench-{number:07d}-{secrets.token_hex(3)}",
        tenant_id=TENANT,
        language=LANGUAGES[number % len(LANGUAGES)],
        topic=TOPICS[(number // len(LANGUAGES)) % len(TOPICS)],
        received_at=datetime.now(UTC),
    )
    return wrap(call, source="/bench", correlation_id=call.call_id)


async def _watch(bootstrap: str, topics: Sequence[str]) -> AIOKafkaConsumer:
    """A plain reader of `topics` from their current ends."""
    partitions = [
        TopicPartition(topic, p) for topic in topics for p in await partitions_of(bootstrap, topic)
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, fetch_max_wait_ms=50)
    await consumer.start()
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for tp in partitions:
        await consumer.position(tp)
    return consumer


async def _collect(
    watcher: AIOKafkaConsumer, source: str, target: str, offered_type: str | None, sent: list[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """Append times (ms) of each call's record and of its answer, until all are answered."""
    received: dict[str, int] = {}
    answered: dict[str, int] = {}
    deadline = time.monotonic() + 60
    while min(len(answered), len(received)) < len(sent) and time.monotonic() < deadline:
        polled = await watcher.getmany(timeout_ms=200, max_records=10_000)
        for tp, messages in polled.items():
            for m in messages:
                call_id = (m.key or b"").decode()
                if tp.topic == source:
                    received[call_id] = m.timestamp
                elif offered_type is None or _type_of(m.headers) == offered_type:
                    answered.setdefault(call_id, m.timestamp)
    return received, answered


def _type_of(headers: Sequence[tuple[str, bytes]]) -> str:
    return next((v.decode() for k, v in headers if k == "ce_type"), "")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- 3: restart to ready -------------------------------------------------------------------------


def _measure_restarts(options: RoutingServiceOptions) -> dict[str, Any]:
    prefix = f"{options.topic_prefix}day-{secrets.token_hex(2)}."
    asyncio.run(ensure_topics(options.bootstrap_servers, prefix=prefix))
    began = time.monotonic()
    facts = asyncio.run(_write_a_day(options, prefix))
    written_s = time.monotonic() - began
    print(f"routing: {facts} facts written in {written_s:.0f} s", flush=True)
    cold = _start_until_ready(options, prefix, "routing-cold", wait_for_snapshot=True)
    with_snapshot = _start_until_ready(options, prefix, "routing-snapshot")
    snapshot_kb = _drop_snapshot(options, prefix)
    without_snapshot = _start_until_ready(options, prefix, "routing-no-snapshot")
    return {
        "facts": facts,
        "facts_written_s": written_s,
        "cold": cold,
        "with_snapshot": with_snapshot,
        "without_snapshot": without_snapshot,
        "snapshot_kb": snapshot_kb,
    }


def _start_until_ready(
    options: RoutingServiceOptions, prefix: str, name: str, *, wait_for_snapshot: bool = False
) -> Restart:
    started = time.monotonic()
    with _routing(options, prefix, name) as server:
        ready_s = time.monotonic() - started
        rss = _rss_mb(server.pid)
        if wait_for_snapshot:
            _wait_for_snapshot(server)
    print(f"routing: {name} ready in {ready_s:.1f} s, RSS {rss:.0f} MB", flush=True)
    return Restart(ready_s, rss)


def _wait_for_snapshot(server: Server) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        metrics = httpx.get(f"http://{server.host}:{server.port}/metrics", timeout=5).text
        line = next(
            m for m in metrics.splitlines() if m.startswith("callcenter_routing_snapshot_seq")
        )
        if float(line.split()[-1]) > 0:
            return
        time.sleep(0.2)  # polling interval
    raise BenchError("routing took no snapshot after its cold start")


def _drop_snapshot(options: RoutingServiceOptions, prefix: str) -> float:
    path = options.work_dir / (prefix + "routing.sqlite3")
    with sqlite3.connect(path) as db:
        [size] = db.execute("SELECT length(state) FROM routing_snapshots").fetchone()
        db.execute("DELETE FROM routing_snapshots")
    return float(size) / 1024


async def _write_a_day(options: RoutingServiceOptions, prefix: str) -> int:
    producer = EventProducer(options.bootstrap_servers, client_id="bench-day", topic_prefix=prefix)
    await producer.start()
    try:
        written = 0
        pending: list[asyncio.Future[Any]] = []
        for seq, effect in enumerate(_a_day(options), start=1):
            event = event_of(effect, seq)
            pending += await producer.enqueue_all(
                [wrap(event, source="/callcenter/routing", correlation_id="bench")]
            )
            written = seq
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
        return written
    finally:
        await producer.stop()


def _a_day(options: RoutingServiceOptions) -> Iterator[Effect]:
    """The facts of a busy day, as routing would have recorded them, written straight out.

    Each call is queued, offered to the next free agent (longest idle), accepted, ended and
    wrapped up; one offer in 500 stays open (its agent stays busy), some calls are still
    talking at the end, and a few hundred wait for a skill nobody has.
    """
    now = time.time() - 86_400
    agents = [f"a{n:05d}" for n in range(options.day_agents)]
    for agent_id in agents:
        yield AgentUpdated(agent_id, agent_id, dict(SKILLS), 1, now)
        yield AgentChanged(
            agent_id, AgentStatus.AVAILABLE, "set by the agent", now, "presence", Presence.AVAILABLE
        )
    free = deque(agents)
    written, number = 2 * len(agents), 0
    while written < options.facts - len(agents) and len(free) > 1:
        number += 1
        now += 0.02
        facts = list(_one_call(f"day-{number:07d}", free, now, talk=number % 500 != 0))
        written += len(facts)
        yield from facts
    for number in range(len(agents) // 4):  # nobody speaks Finnish: they wait
        yield CallEnqueued(f"fi-{number:05d}", TENANT, 0, NEEDS | {"lang:fi": 1}, now)


def _one_call(call_id: str, free: deque[str], now: float, *, talk: bool) -> Iterator[Effect]:
    agent_id = free.popleft()
    yield CallEnqueued(call_id, TENANT, 0, dict(NEEDS), now)
    offer = Offer(f"{call_id}.1", call_id, TENANT, agent_id, now, now + 15)
    candidate = Candidate(agent_id, True, 12.5, "eligible")
    decision = Decision(
        now,
        call_id,
        TENANT,
        agent_id,
        offer.offer_id,
        0,
        dict(NEEDS),
        Selection.LONGEST_IDLE,
        (candidate,),
        "only one eligible agent",
        1,
        0,
    )
    yield OfferMade(decision, offer)
    if not talk:
        return  # the offer stays open, the agent busy
    yield OfferEnded(offer, "accepted", now + 0.004)
    yield AgentChanged(
        agent_id,
        AgentStatus.WRAP_UP,
        "call ended",
        now + 0.01,
        "call_ended",
        Presence.AVAILABLE,
        call_id,
    )
    yield AgentChanged(
        agent_id,
        AgentStatus.AVAILABLE,
        "wrap-up submitted",
        now + 0.015,
        "wrapped_up",
        Presence.AVAILABLE,
        call_id,
    )
    free.append(agent_id)
