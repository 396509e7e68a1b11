"""Poison on every topic, through the real broker, to a consumer built as the services build it.

Fuzzed poison records (`callcenter_testkit.eventfuzz.poison`: random bytes, half-written values,
wrong kinds, unknown and future versions, unknown types, broken headers, old versions of the
wrong shape, non-finite numbers) are written by a plain Kafka client between valid events on
every topic the consumer can read. Each poison record must reach the dead-letter topic unchanged
with the reason `decode` gives; each valid event must be handled exactly once, in its
partition's order; and the consumer must keep running: an event written after all of it is
handled too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from callcenter_events import REGISTRY, Batch, Envelope, Record, encode
from callcenter_events.admin import ensure_topics
from callcenter_events.producer import EventProducer
from callcenter_events.topics import ALL_TOPICS, DEAD_LETTERS, Topic
from callcenter_service.settings import ServiceSettings
from callcenter_service.wiring import event_consumer
from callcenter_testkit import eventfuzz, eventually
from callcenter_testkit.tally import count
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(300)]

POISON_PER_TOPIC = int(os.environ.get("CALLCENTER_FUZZ_POISON", "40"))
VALID_PER_TOPIC = 8
TOPICS = [topic for topic in ALL_TOPICS if topic is not DEAD_LETTERS]
"""Every topic but the dead-letter topic itself (its consumer would dead-letter to itself)."""
DLQ_HEADERS = ("dlq_reason", "dlq_source_topic", "dlq_source_partition", "dlq_source_offset")
T = TypeVar("T")
Where = tuple[str, int, int]


def _drawn(strategy: st.SearchStrategy[T], n: int) -> list[T]:
    """`n` values of `strategy`, as varied as hypothesis makes them."""
    found: list[T] = []

    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: T) -> None:
        found.append(value)

    collect()
    return found[:n]


def _valid_types(topic: Topic) -> list[str]:
    """The types written to `topic`; any type for topics that carry none of the registry's."""
    own = [spec.event_type for spec in REGISTRY.specs() if spec.topic == topic]
    return own or list(eventfuzz.EVENT_TYPES)


@dataclasses.dataclass
class Written:
    valid: dict[Where, str] = dataclasses.field(default_factory=dict)
    """Where each valid event went: its id."""
    poison: dict[Where, tuple[Record, str]] = dataclasses.field(default_factory=dict)
    """Where each poison record went: the record and the reason it must be rejected with."""


def _sendable(topic: Topic, record: Record) -> Record:
    """With a key where one is needed: a compacted topic, or a tombstone (aiokafka wants one)."""
    compacted = topic.extra_config.get("cleanup.policy") == "compact"
    if record.key is None and (compacted or record.value is None):
        return Record(b"k", record.value, record.headers)
    return record


def _interleaved(
    topic: Topic, valid: Sequence[Envelope], poison: Sequence[tuple[Record, str]]
) -> list[tuple[Record, str | None]]:
    """Poison between the valid events (one valid after every few poison records)."""
    stride = max(len(poison) // max(len(valid), 1), 1)
    out: list[tuple[Record, str | None]] = []
    valid_left = list(valid)
    for i, (record, reason) in enumerate(poison):
        out.append((_sendable(topic, record), reason))
        if i % stride == stride - 1 and valid_left:
            envelope = valid_left.pop(0)
            out.append((encode(envelope), None))
    out += [(encode(envelope), None) for envelope in valid_left]
    return out


async def _write(bootstrap: str, prefix: str) -> Written:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    written = Written()
    try:
        for topic in TOPICS:
            name = topic.name(prefix)
            valid = [
                dataclasses.replace(envelope, id=f"{topic.base_name}/{i}")
                for i, envelope in enumerate(
                    _drawn(eventfuzz.envelopes(_valid_types(topic)), VALID_PER_TOPIC)
                )
            ]
            poison = _drawn(eventfuzz.poison(), POISON_PER_TOPIC)
            pending = [
                (
                    await producer.send(
                        name, record.value, key=record.key, headers=list(record.headers)
                    ),
                    record,
                    reason,
                )
                for record, reason in _interleaved(topic, valid, poison)
            ]
            for future, record, reason in pending:
                metadata = await future
                where = (name, metadata.partition, metadata.offset)
                if reason is None:
                    written.valid[where] = dict(record.headers)["ce_id"].decode()
                else:
                    written.poison[where] = (record, reason)
    finally:
        await producer.stop()
    return written


async def _dead_letters(
    bootstrap: str, topic: str, expected: int, consuming: asyncio.Task[None]
) -> dict[Where, Any]:
    """The dead letters, by the position of the record they stand for."""
    reader = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await reader.start()
    found: dict[Where, Any] = {}
    try:

        async def all_there() -> bool:
            if consuming.done():
                pytest.fail(f"the consumer stopped: {consuming}")
            polled = await reader.getmany(timeout_ms=200)
            for messages in polled.values():
                for message in messages:
                    last = dict(message.headers)  # the dead-letter headers come last
                    dlq = {k: last[k].decode() for k in DLQ_HEADERS}
                    where = (
                        dlq["dlq_source_topic"],
                        int(dlq["dlq_source_partition"]),
                        int(dlq["dlq_source_offset"]),
                    )
                    assert where not in found, f"dead-lettered twice: {where}"
                    found[where] = (message, dlq)
            return len(found) >= expected

        await eventually(all_there, timeout=60, what=f"{expected} dead letters")
    finally:
        await reader.stop()
    return found


async def test_poison_on_every_topic_is_dead_lettered_and_the_consumer_goes_on(
    kafka_bootstrap: str,
) -> None:
    prefix = f"fuzz-poison-{uuid.uuid4().hex[:8]}."
    await ensure_topics(kafka_bootstrap, prefix=prefix)
    written = await _write(kafka_bootstrap, prefix)

    service = ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=prefix)
    producer = EventProducer(kafka_bootstrap, client_id="fuzz-poison", topic_prefix=prefix)
    await producer.start()
    handled: list[tuple[Where, str]] = []

    async def handler(batch: Batch) -> None:
        for envelope in batch.envelopes:
            assert envelope.position is not None
            p = envelope.position
            handled.append(((p.topic, p.partition, p.offset), envelope.id))

    consumer = event_consumer(
        service, group="fuzz-poison", topics=TOPICS, handler=handler, producer=producer
    )
    await consumer.start()
    running = asyncio.create_task(consumer.run())
    try:
        letters = await _dead_letters(
            kafka_bootstrap, DEAD_LETTERS.name(prefix), len(written.poison), running
        )

        async def all_handled() -> bool:
            if running.done():
                pytest.fail(f"the consumer stopped: {running}")
            return len(handled) >= len(written.valid)

        await eventually(all_handled, timeout=60, what="every valid event handled")

        last = dataclasses.replace(
            _drawn(eventfuzz.envelopes(["call.received"]), 1)[0], id="the-last-one"
        )
        await producer.publish(last)

        async def last_handled() -> bool:
            if running.done():
                pytest.fail(f"the consumer stopped: {running}")
            return any(event_id == "the-last-one" for _, event_id in handled)

        await eventually(last_handled, timeout=30, what="an event after the poison handled")
    finally:
        running.cancel()
        await consumer.stop()
        await producer.stop()

    count("fuzz", "poison records dead-lettered", len(written.poison))
    count("fuzz", "valid records between them", len(written.valid))
    assert set(written.poison) == set(letters)
    for where, (record, reason) in written.poison.items():
        message, dlq = letters[where]
        assert dlq["dlq_reason"] == reason, where
        assert (message.key, message.value) == (record.key, record.value), where
    before_last = [entry for entry in handled if entry[1] != "the-last-one"]
    assert len(before_last) == len({where for where, _ in before_last}), "handled twice"
    assert dict(before_last) == written.valid
    offsets: dict[tuple[str, int], list[int]] = {}
    for (topic, partition, offset), _ in before_last:
        offsets.setdefault((topic, partition), []).append(offset)
    for where_, in_order in offsets.items():
        assert in_order == sorted(in_order), f"handled out of order in {where_}"
