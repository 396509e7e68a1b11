"""Malformed records written by a plain Kafka client end in the dead-letter topic, with reasons."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from callcenter_events import Batch, Envelope, encode
from callcenter_events.consumer import EventConsumer
from callcenter_events.deadletter import KafkaDeadLetters
from callcenter_events.producer import EventProducer
from callcenter_events.testing import call_received
from callcenter_events.topics import CALLS, DEAD_LETTERS
from callcenter_testkit import eventually

pytestmark = pytest.mark.kafka


def _headers(envelope: Envelope, **replaced: bytes) -> list[tuple[str, bytes]]:
    headers = dict(encode(envelope).headers) | replaced
    return list(headers.items())


def _malformed() -> dict[str, tuple[bytes, list[tuple[str, bytes]]]]:
    """Reason fragment -> (value, headers) of a broken record."""
    valid = encode(call_received("c-missing")).value or b""
    missing_field = orjson.dumps({k: v for k, v in orjson.loads(valid).items() if k != "topic"})
    return {
        "value is not JSON": (b"<call>1</call>", _headers(call_received("c-xml"))),
        "unknown event type 'call.beamed'": (
            valid,
            _headers(call_received("c-beam"), ce_type=b"call.beamed"),
        ),
        "topic: Field required": (missing_field, _headers(call_received("c-missing"))),
        "unknown future schema version 7": (
            valid,
            _headers(call_received("c-future"), ce_schemaversion=b"7"),
        ),
    }


async def _read_dead_letters(bootstrap: str, topic: str, count: int) -> list[dict[str, str]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[dict[str, str]] = []
    try:

        async def enough() -> bool:
            polled = await consumer.getmany(timeout_ms=200)
            for messages in polled.values():
                found.extend({k: v.decode() for k, v in m.headers} for m in messages)
            return len(found) >= count

        await eventually(enough, timeout=30, what=f"{count} dead letters")
    finally:
        await consumer.stop()
    return found


async def test_each_malformed_record_is_dead_lettered_and_good_ones_go_on(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    calls_topic = CALLS.name(topic_prefix)
    plain = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await plain.start()
    good = [call_received(f"good-{i}") for i in range(5)]
    broken = _malformed()
    try:
        bad_first = [*broken.values(), None]
        for envelope, bad in zip(good, bad_first, strict=True):
            if bad is not None:
                await plain.send_and_wait(calls_topic, bad[0], key=b"same-key", headers=bad[1])
            record = encode(envelope)
            await plain.send_and_wait(
                calls_topic, record.value, key=b"same-key", headers=list(record.headers)
            )
    finally:
        await plain.stop()

    producer = EventProducer(kafka_bootstrap, client_id="dlq-test", topic_prefix=topic_prefix)
    await producer.start()
    handled: list[str] = []

    async def handler(batch: Batch) -> None:
        handled.extend(e.id for e in batch.envelopes)

    consumer = EventConsumer(
        bootstrap_servers=kafka_bootstrap,
        group_id=f"{topic_prefix}dlq",
        topics=[calls_topic],
        handler=handler,
        dead_letters=KafkaDeadLetters(producer, DEAD_LETTERS.name(topic_prefix), "dlq"),
    )
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    try:
        letters = await _read_dead_letters(kafka_bootstrap, DEAD_LETTERS.name(topic_prefix), 4)

        async def all_good_handled() -> bool:
            return len(handled) == len(good)

        await eventually(all_good_handled, timeout=30, what="the good records handled")
    finally:
        task.cancel()
        await consumer.stop()
        await producer.stop()

    assert sorted(handled) == sorted(e.id for e in good)
    reasons = [letter["dlq_reason"] for letter in letters]
    for fragment in broken:
        assert sum(fragment in reason for reason in reasons) == 1, (fragment, reasons)
    assert {letter["dlq_source_topic"] for letter in letters} == {calls_topic}
    assert {letter["dlq_consumer_group"] for letter in letters} == {"dlq"}
