"""What the consumers must survive while events flow: a consumer-group rebalance, duplicated
deliveries, poison records in every topic. After each: nothing acknowledged lost, nothing
counted twice, every call's state explained by its events, analytics equal to the log.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

import pytest
from aiokafka import AIOKafkaProducer
from callcenter_events.topics import (
    AGENTS,
    CALLS,
    DEAD_LETTERS,
    PRIVACY,
    ROUTING,
    SUBJECT_KEYS,
    SURVEYS,
    TENANTS,
    Topic,
)
from callcenter_testkit.load import SteadyLoad
from callcenter_testkit.oracle import raw_messages
from callcenter_testkit.platform import SERVICES
from callcenter_testkit.polling import eventually
from callcenter_testkit.scenario import BEFORE_FAULT, READY_S, Scenario
from callcenter_testkit.tally import count

pytestmark = [
    pytest.mark.faults,
    pytest.mark.kafka,
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.timeout(420),
]

REBALANCED = ("intake", "surveys", "analytics")
DUPLICATED = (CALLS, ROUTING, AGENTS, SURVEYS, TENANTS)
"""The topics whose records are delivered again (the history topics the load writes)."""
POISONED = (TENANTS, CALLS, ROUTING, AGENTS, SURVEYS, PRIVACY, SUBJECT_KEYS)
"""Every topic of events or keys (the two owner topics are empty by design, dead letters
are where poison ends up)."""
POISON_KINDS = ("no attributes", "known type, not JSON", "unknown type")
KNOWN_TYPE = POISON_KINDS.index("known type, not JSON")
DEAD_LETTERED = (TENANTS, CALLS, ROUTING, AGENTS, SURVEYS, PRIVACY)
"""Topics read by consumer groups: each of their poison records must reach the dead letters
(every instance also reads the tenants topic without a group and skips what it cannot read;
analytics reads it in a group too). The key topic is not events: the services that read it
at start are restarted over its poison."""


async def test_rebalance_while_events_flow(scenario: Scenario) -> None:
    """A second instance of each service that consumes in groups joins them, works, and
    leaves again (routing's second instance would only stand by: its failover is the e2e
    test's, tests/e2e/test_routing_failover.py)."""

    async def rebalance(load: SteadyLoad) -> int:
        others = [scenario.platform.another(name) for name in REBALANCED]
        try:
            await asyncio.gather(*(asyncio.to_thread(o.wait_ready, READY_S) for o in others))
            await load.acknowledged_calls(BEFORE_FAULT)  # events flow with two of each
        finally:
            codes = await asyncio.gather(*(asyncio.to_thread(o.stop) for o in others))
        assert codes == [0] * len(others), f"second instances exited with {codes}"
        return 2 * len(others)  # each joined and left its groups

    await scenario.run("rebalance", rebalance)


async def test_duplicated_deliveries(scenario: Scenario) -> None:
    """Every record of the tenant so far written again, same event ids, into the same
    partitions: once while the services run (their recent ids drop them), once while all
    four are down (so the restarted consumers, and routing's rebuild, see them afresh)."""
    platform = scenario.platform

    async def duplicate(load: SteadyLoad) -> int:
        again = await _republish(scenario)
        for service in platform.services.values():
            service.kill()
        again += await _republish(scenario)
        await asyncio.gather(*(asyncio.to_thread(platform.restart, s, READY_S) for s in SERVICES))
        count("faults", "duplicate deliveries injected", again)
        return 2

    _tally, checked = await scenario.run("duplicated deliveries", duplicate)
    assert checked.repeated_ids > 0, "the duplicates are in the log"


async def test_poison_records_in_every_topic(scenario: Scenario) -> None:
    """Undecodable records in every topic; the services that read topics from offset zero at
    start (routing its facts, intake and surveys the keys) are killed and restarted over them."""
    platform = scenario.platform
    poisoned: list[tuple[str, int, int]] = []

    async def poison(load: SteadyLoad) -> int:
        poisoned.extend(await _poison(scenario.bootstrap, platform.topic_prefix))
        await load.acknowledged_calls(BEFORE_FAULT // 2)
        restarted = ("routing", "intake", "surveys")
        for name in restarted:
            platform.services[name].kill()
        await asyncio.gather(
            *(asyncio.to_thread(platform.restart, name, READY_S) for name in restarted)
        )
        count("faults", "poison records injected", len(poisoned))
        return len(poisoned) + 3

    _tally, checked = await scenario.run("poison records", poison)
    assert checked.undecodable >= sum(
        topic in {t.name(platform.topic_prefix) for t in (CALLS, ROUTING, AGENTS, SURVEYS)}
        for topic, _p, _o in poisoned
    )
    await _dead_lettered(scenario, poisoned)


async def _republish(scenario: Scenario) -> int:
    """The tenant's records (and its agents') written again as they are."""
    prefix = scenario.platform.topic_prefix
    messages = await raw_messages(scenario.bootstrap, [t.name(prefix) for t in DUPLICATED])
    tenant = scenario.tenant.encode()
    ours, ids = [], set()
    for tp, m in messages:
        headers = dict(m.headers or ())
        theirs = headers.get("ce_tenantid") == tenant or (m.key or b"").startswith(
            tenant + b"-agent-"
        )
        if theirs and headers.get("ce_id") not in ids:  # one copy of each event
            ids.add(headers.get("ce_id"))
            ours.append((tp, m))
    producer = AIOKafkaProducer(bootstrap_servers=scenario.bootstrap, acks="all")
    await producer.start()
    try:
        sent = [
            await producer.send(
                tp.topic, m.value, key=m.key, partition=tp.partition, headers=list(m.headers)
            )
            for tp, m in ours
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    assert ours, "nothing of the tenant to deliver again"
    return len(ours)


def _poison_records(topic: Topic) -> list[tuple[bytes, list[tuple[str, bytes]]]]:
    """Three kinds: no attributes at all, a known type whose data is not JSON, an unknown type."""
    known = {
        "callcenter.tenants.v1": b"tenant.created",
        "callcenter.calls.v1": b"call.received",
        "callcenter.routing.v1": b"call.offered",
        "callcenter.agents.v1": b"agent.status_changed",
        "callcenter.surveys.v1": b"survey.answered",
        "callcenter.privacy.v1": b"customer.erased",
        "callcenter.subject-keys.v1": b"subject.key",
    }[topic.base_name]

    def attributes(event_type: bytes) -> list[tuple[str, bytes]]:
        return [
            ("ce_specversion", b"1.0"),
            ("ce_id", str(uuid.uuid4()).encode()),
            ("ce_source", b"/faults/poison"),
            ("ce_type", event_type),
            ("ce_time", b"2026-01-01T00:00:00+00:00"),
            ("ce_tenantid", b"*"),
            ("ce_correlationid", b"poison"),
            ("ce_schemaversion", b"1"),
            ("content-type", b"application/json"),
        ]

    records = {
        "no attributes": (b"\x00\xffnot an event", []),
        "known type, not JSON": (b"{not json", attributes(known)),
        "unknown type": (b'{"x": 1}', attributes(b"poison.unknown")),
    }
    return [records[kind] for kind in POISON_KINDS]


async def _poison(bootstrap: str, prefix: str) -> list[tuple[str, int, int]]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    written = []
    try:
        for topic in POISONED:
            for value, headers in _poison_records(topic):
                meta = await producer.send_and_wait(
                    topic.name(prefix), value, key=b"poison", headers=headers
                )
                written.append((meta.topic, meta.partition, meta.offset))
    finally:
        await producer.stop()
    return written


async def _dead_lettered(scenario: Scenario, poisoned: Sequence[tuple[str, int, int]]) -> None:
    """Each poison record of a group-read topic is in the dead letters, with its reason; one
    that no reader can take for its own (no attributes, an unknown type) is set aside by every
    group that set aside anything of that topic (a group skips unread the types it does not
    read, so a known type's bad data may be some groups' only)."""
    prefix = scenario.platform.topic_prefix
    grouped = {t.name(prefix) for t in DEAD_LETTERED}
    expected = [p for p in poisoned if p[0] in grouped]
    for_all = {p for i, p in enumerate(expected) if i % len(POISON_KINDS) != KNOWN_TYPE}

    async def all_dead_lettered() -> bool:
        letters = await raw_messages(scenario.bootstrap, [DEAD_LETTERS.name(prefix)])
        groups: dict[tuple[str, int, int], set[str]] = {}
        for _tp, m in letters:
            h = dict(m.headers or ())
            source = (
                h["dlq_source_topic"].decode(),
                int(h["dlq_source_partition"]),
                int(h["dlq_source_offset"]),
            )
            assert h["dlq_reason"], "a dead letter names its reason"
            groups.setdefault(source, set()).add(h["dlq_consumer_group"].decode())
        missing = [p for p in expected if p not in groups]
        assert not missing, f"{len(missing)} poison records not dead-lettered: {missing}"
        readers: dict[str, set[str]] = {}
        for (topic, _p, _o), by in groups.items():
            readers.setdefault(topic, set()).update(by)
        partial = {p: readers[p[0]] - groups[p] for p in for_all if readers[p[0]] - groups[p]}
        assert not partial, f"poison not set aside by every group that reads it: {partial}"
        count("faults", "dead letters checked", sum(len(groups[p]) for p in expected))
        return True

    await eventually(all_dead_lettered, timeout=30, interval=0.5, what="poison dead-lettered")
