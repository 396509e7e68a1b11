"""Subject keys in the compacted key topic, shared by vault instances through the real broker.

Each instance here is what a service runs: its own producer, its own `KafkaKeyStore` following
the whole key topic, and a `Vault` over it. What one instance creates, another can use at once;
what one erases, every other one (and every later one) can no longer open.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from callcenter_events.admin import ensure_topics
from callcenter_events.privacy import (
    KeyStoreUnavailableError,
    MasterKeys,
    SubjectRef,
    Vault,
    is_sealed,
)
from callcenter_events.privacy.kafka_keys import KafkaKeyStore
from callcenter_events.privacy.keystore import KeyRecord
from callcenter_events.privacy.master import DEVELOPMENT_MASTER_KEYS
from callcenter_events.privacy.sealing import subject_of
from callcenter_events.producer import EventProducer
from callcenter_events.topics import SUBJECT_KEYS
from callcenter_testkit import eventually

pytestmark = pytest.mark.kafka

MASTER = MasterKeys.parse(DEVELOPMENT_MASTER_KEYS)
LOOKUP_SECRET = hashlib.sha256(b"key store integration test lookup secret").digest()
FIELD = "caller_phone"
ALICE = SubjectRef("acme", "phone", "+4930555000111")
BOB = SubjectRef("acme", "phone", "+4930555000222")


class CountingKeyStore(KafkaKeyStore):
    """The real key store, counting how often a vault asked it to read what others wrote."""

    refreshes = 0

    async def refresh(self) -> None:
        self.refreshes += 1
        await super().refresh()


@contextlib.asynccontextmanager
async def running_store(
    bootstrap: str, topic: str, name: str, *, wait_caught_up: bool = True
) -> AsyncIterator[CountingKeyStore]:
    """A key store with its own producer, following the topic as a service's component does."""
    producer = EventProducer(bootstrap, client_id=f"key-store-test-{name}")
    await producer.start()
    store = CountingKeyStore(bootstrap, topic, producer)
    task: asyncio.Task[None] | None = None
    try:
        await store.start()
        task = asyncio.create_task(store.run(), name=f"subject-keys-{name}")
        if wait_caught_up:

            async def caught_up() -> bool:
                if task.done():
                    task.result()  # the follower crashed: fail with its error, not a timeout
                return store.caught_up

            await eventually(caught_up, timeout=30, what=f"instance {name} read the key topic")
        yield store
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await store.stop()
        await producer.stop()


def vault_of(store: KafkaKeyStore) -> Vault:
    return Vault(store, MASTER, LOOKUP_SECRET)


async def sealed_for(vault: Vault, ref: SubjectRef) -> tuple[str, str]:
    """The person's number sealed by `vault` (creating the person's key), and the subject id."""
    subject_id = await vault.subject_for(ref)
    token = await vault.seal_value(subject_id, FIELD, ref.value)
    assert token is not None
    assert is_sealed(token)
    assert subject_of(token) == subject_id
    return token, subject_id


async def test_a_key_created_by_one_instance_opens_values_on_another(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    topic = SUBJECT_KEYS.name(topic_prefix)
    async with (
        running_store(kafka_bootstrap, topic, "a") as store_a,
        running_store(kafka_bootstrap, topic, "b") as store_b,
    ):
        a, b = vault_of(store_a), vault_of(store_b)
        token, subject_id = await sealed_for(a, ALICE)

        # No polling: A's put returned after the broker acknowledged the key, so B's reveal must
        # succeed at once; if B's follower has not fetched the record yet, the miss makes B
        # catch up with the topic (a race with B's fetch loop, hence only counted, not asserted).
        missed = store_b.record(subject_id) is None
        assert await b.reveal(token, FIELD) == ALICE.value
        assert store_b.refreshes == (1 if missed else 0)

        # B finds the same subject for the same person rather than creating a second key.
        assert await b.subject_for(ALICE) == subject_id
        assert b.subjects_of(ALICE) == [subject_id]
        assert len(store_b) == 1


async def test_a_reveal_before_the_first_catch_up_waits_for_the_key(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    topic = SUBJECT_KEYS.name(topic_prefix)
    async with running_store(kafka_bootstrap, topic, "a") as store_a:
        token, subject_id = await sealed_for(vault_of(store_a), ALICE)
        async with running_store(kafka_bootstrap, topic, "b", wait_caught_up=False) as store_b:
            # B's follower has not read anything yet (no await since it started): a certain miss.
            assert store_b.record(subject_id) is None
            assert await vault_of(store_b).reveal(token, FIELD) == ALICE.value
            assert store_b.refreshes == 1


async def test_an_erasure_by_one_instance_closes_the_value_on_another(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    topic = SUBJECT_KEYS.name(topic_prefix)
    async with (
        running_store(kafka_bootstrap, topic, "a") as store_a,
        running_store(kafka_bootstrap, topic, "b") as store_b,
    ):
        a, b = vault_of(store_a), vault_of(store_b)
        token, subject_id = await sealed_for(a, ALICE)
        other_token, other_id = await sealed_for(a, BOB)
        assert await b.reveal(token, FIELD) == ALICE.value  # B now holds Alice's key in its cache
        assert await b.reveal(other_token, FIELD) == BOB.value
        assert subject_id in b._keys  # private, but the point: the key sits in its cache

        await a.erase([subject_id])
        assert await a.reveal(token, FIELD) is None  # the eraser itself, at once

        async def closed_on_b() -> bool:
            return await b.reveal(token, FIELD) is None

        await eventually(closed_on_b, timeout=10, what="B no longer opens the erased value")
        assert store_b.is_erased(subject_id)
        assert store_b.record(subject_id) is None
        assert subject_id not in b._keys, "B's cached key of the erased subject is dropped"
        assert b.subjects_of(ALICE) == []
        assert await b.seal_value(subject_id, FIELD, ALICE.value) is None  # takes no new data
        assert await b.reveal(other_token, FIELD) == BOB.value
        assert b.subjects_of(BOB) == [other_id]


async def test_an_instance_started_after_the_erasure_cannot_open_the_value(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    topic = SUBJECT_KEYS.name(topic_prefix)
    async with running_store(kafka_bootstrap, topic, "a") as store_a:
        a = vault_of(store_a)
        token, subject_id = await sealed_for(a, ALICE)
        other_token, other_id = await sealed_for(a, BOB)
        await a.erase([subject_id])

    # C reads the topic from offset zero: Alice's key record and then its tombstone.
    async with running_store(kafka_bootstrap, topic, "c") as store_c:
        c = vault_of(store_c)
        assert store_c.is_erased(subject_id)
        assert store_c.record(subject_id) is None
        assert await c.reveal(token, FIELD) is None
        assert await c.reveal(other_token, FIELD) == BOB.value
        assert store_c.refreshes == 0, "both subjects were known from the catch-up"
        assert c.subjects_of(BOB) == [other_id]
        assert c.subjects_of(ALICE) == []
        # Alice calls again: a new subject with a new key, not the erased one.
        new_token, new_id = await sealed_for(c, ALICE)
        assert new_id != subject_id
        assert await c.reveal(new_token, FIELD) == ALICE.value


async def _described_topic(bootstrap: str, topic: str) -> tuple[int, dict[str, str]]:
    """The topic's partition count and its configuration, as the broker describes them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="key-store-test")
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    [(error_code, error_message, _type, name, entries)] = response.resources
    assert (error_code, name) == (0, topic), error_message
    return len(described["partitions"]), {entry[0]: entry[1] for entry in entries}


async def test_the_key_topic_is_created_with_its_compaction_settings(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    partitions, configs = await _described_topic(kafka_bootstrap, SUBJECT_KEYS.name(topic_prefix))
    assert partitions == SUBJECT_KEYS.partitions
    expected = SUBJECT_KEYS.config()
    assert {name: configs[name] for name in expected} == expected
    assert expected["cleanup.policy"] == "compact"
    assert {"segment.ms", "max.compaction.lag.ms", "delete.retention.ms"} <= expected.keys()


# --- compaction --------------------------------------------------------------------------------
#
# Kafka 4.1 accepts segment.ms >= 1, max.compaction.lag.ms >= 1, min.cleanable.dirty.ratio >= 0
# and delete.retention.ms >= 0 (segment.bytes must be at least 1 MiB since 4.0, so segments are
# rolled by time here). The log cleaner never cleans the active segment, so later records are
# written until the segment holding the key and its tombstone has rolled; the cleaner then looks
# for work every `log.cleaner.backoff.ms` (broker setting, 15 s by default). The cleaned segment
# replaces the old one for readers at once; the old file is deleted `file.delete.delay.ms` (60 s)
# later.
COMPACTION_DEADLINE_S = 90.0
FAST_COMPACTION = {
    "segment.ms": "100",
    "max.compaction.lag.ms": "1",
    "min.cleanable.dirty.ratio": "0.01",
    "delete.retention.ms": "0",
}


async def _broker_settings(bootstrap: str, names: set[str]) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="key-store-test")
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        broker = str(cluster["brokers"][0]["node_id"])
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.BROKER, broker)]
        )
    finally:
        await admin.close()
    [(_code, _message, _type, _name, entries)] = response.resources
    return {entry[0]: entry[1] for entry in entries if entry[0] in names}


async def _key_records(consumer: Any, tp: TopicPartition, key: bytes) -> list[tuple[int, bool]]:
    """(offset, is a tombstone) of every record with `key`, reading the partition from zero."""
    end = (await consumer.end_offsets([tp]))[tp]
    await consumer.seek_to_beginning(tp)
    found: list[tuple[int, bool]] = []
    deadline = time.monotonic() + 10
    while await consumer.position(tp) < end:
        assert time.monotonic() < deadline, "reading the partition took too long"
        polled = await consumer.getmany(tp, timeout_ms=200)
        found += [(m.offset, m.value is None) for m in polled.get(tp, []) if m.key == key]
    return found


@pytest.mark.slow
async def test_compaction_removes_an_erased_key_from_the_broker(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    settings = await _broker_settings(
        kafka_bootstrap, {"log.cleaner.enable", "log.cleaner.backoff.ms"}
    )
    if settings.get("log.cleaner.enable", "true") != "true":
        pytest.skip("the broker's log cleaner is disabled: compacted topics are never cleaned")
    backoff_ms = int(settings.get("log.cleaner.backoff.ms", "15000"))
    if backoff_ms > 30_000:
        pytest.skip(f"log.cleaner.backoff.ms={backoff_ms}: too slow to wait for in a test")

    throwaway = dataclasses.replace(
        SUBJECT_KEYS,
        base_name="callcenter.subject-keys-compaction.v1",
        partitions=1,
        extra_config=SUBJECT_KEYS.extra_config | FAST_COMPACTION,
    )
    topic = throwaway.name(topic_prefix)
    assert await ensure_topics(kafka_bootstrap, prefix=topic_prefix, topics=[throwaway]) == [topic]
    _partitions, configs = await _described_topic(kafka_bootstrap, topic)
    assert {name: configs[name] for name in throwaway.config()} == throwaway.config()

    tp = TopicPartition(topic, 0)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    consumer.assign([tp])
    try:
        async with running_store(kafka_bootstrap, topic, "writer") as store:
            vault = vault_of(store)
            _token, subject_id = await sealed_for(vault, ALICE)
            key = subject_id.encode()
            [(offset, tombstone)] = await _key_records(consumer, tp, key)
            assert not tombstone, "the key record is in the log before the erasure"

            await vault.erase([subject_id])
            erased_at = time.monotonic()
            later = 0

            async def key_record_gone() -> bool:
                nonlocal later
                # A later record rolls the segment holding the key and its tombstone once it is
                # older than segment.ms: only then can the cleaner compact it.
                later += 1
                await sealed_for(vault, SubjectRef("acme", "phone", f"+4930555{later:06d}"))
                records = await _key_records(consumer, tp, key)
                return all(is_tombstone for _offset, is_tombstone in records)

            await eventually(
                key_record_gone,
                timeout=COMPACTION_DEADLINE_S,
                interval=0.5,
                what=f"the log cleaner removed the erased key record at offset {offset}",
            )
            took = time.monotonic() - erased_at
            remaining = await _key_records(consumer, tp, key)
    finally:
        await consumer.stop()
    print(  # the measured time is what this test is for
        f"\nerased key record (offset {offset}) compacted away {took:.1f} s after its tombstone"
        f" (log.cleaner.backoff.ms={backoff_ms}, {later} later records written);"
        f" tombstone still present: {bool(remaining)}"
    )


class ErasedWhileRewrapping(CountingKeyStore):
    """A key store whose first write lets another instance erase the subject just before it."""

    erase_first: Vault | None = None

    async def put(self, record: KeyRecord) -> None:
        if self.erase_first is not None:
            other, self.erase_first = self.erase_first, None
            await other.erase([record.subject_id])  # acknowledged: the tombstone is in the log
        await super().put(record)


async def test_a_rewrap_racing_an_erasure_never_brings_the_key_back(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    """The erasure lands between the rewrap's snapshot and its write (regression)."""
    topic = SUBJECT_KEYS.name(topic_prefix)
    old, new = MasterKeys.generate("old"), MasterKeys.generate("new")
    producer = EventProducer(kafka_bootstrap, client_id="rewrapper")
    await producer.start()
    rewrapping = ErasedWhileRewrapping(kafka_bootstrap, topic, producer)
    async with running_store(kafka_bootstrap, topic, "eraser") as store_b:
        token, subject_id = await sealed_for(
            Vault(store_b, MasterKeys.parse(old), LOOKUP_SECRET), ALICE
        )
        await rewrapping.start()
        follower = asyncio.create_task(rewrapping.run())
        try:
            await rewrapping.refresh()
            assert rewrapping.record(subject_id) is not None
            rewrapping.erase_first = vault_of(store_b)
            rotating = Vault(rewrapping, MasterKeys.parse(f"{new},{old}"), LOOKUP_SECRET)
            assert await rotating.rewrap() == 0, "an erased subject is not re-wrapped"
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            await rewrapping.stop()
            await producer.stop()
    values = await _values_of(kafka_bootstrap, topic, subject_id)
    assert values[-1] is None, "compaction keeps the last record: it must be the tombstone"
    async with running_store(kafka_bootstrap, topic, "late") as late:
        rotated = Vault(late, MasterKeys.parse(f"{new},{old}"), LOOKUP_SECRET)
        assert await rotated.reveal(token, FIELD) is None


async def _values_of(bootstrap: str, topic: str, subject_id: str) -> list[bytes | None]:
    """Every value written under the subject's key, in log order (one partition per key)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    values: list[bytes | None] = []
    try:
        while polled := await consumer.getmany(timeout_ms=1000):
            for messages in polled.values():
                values += [m.value for m in messages if m.key == subject_id.encode()]
    finally:
        await consumer.stop()
    return values


async def test_a_key_store_that_cannot_catch_up_is_unavailable_not_erased(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    topic = SUBJECT_KEYS.name(topic_prefix)
    async with running_store(kafka_bootstrap, topic, "writer") as store_a:
        token, subject_id = await sealed_for(vault_of(store_a), ALICE)
    producer = EventProducer(kafka_bootstrap, client_id="not-following")
    await producer.start()
    try:
        stalled = KafkaKeyStore(kafka_bootstrap, topic, producer)  # started, never run
        await stalled.start()
        try:
            with pytest.raises(KeyStoreUnavailableError):
                await vault_of(stalled).reveal(token, FIELD)
            assert not stalled.is_erased(subject_id)
        finally:
            await stalled.stop()
    finally:
        await producer.stop()


async def test_an_unknown_subject_costs_one_catch_up_then_counts_as_erased(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    topic = SUBJECT_KEYS.name(topic_prefix)
    async with running_store(kafka_bootstrap, topic, "reader") as store:
        vault = vault_of(store)
        foreign = "pd1.s00000000000000000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        assert await vault.reveal(foreign, FIELD) is None
        assert (
            await asyncio.gather(*(vault.reveal(foreign, FIELD) for _ in range(50))) == [None] * 50
        )
        assert store.refreshes == 1, "a compacted-away key is looked for once"
