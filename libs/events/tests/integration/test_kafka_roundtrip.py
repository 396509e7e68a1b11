"""Producer and consumer through the real broker."""

from __future__ import annotations

import asyncio

import pytest
from callcenter_events import Batch, Envelope
from callcenter_events.consumer import EventConsumer
from callcenter_events.deadletter import KafkaDeadLetters
from callcenter_events.producer import EventProducer
from callcenter_events.testing import call_received
from callcenter_events.topics import CALLS, DEAD_LETTERS
from callcenter_testkit import eventually

pytestmark = pytest.mark.kafka


async def test_published_events_are_consumed_at_their_positions(
    kafka_bootstrap: str, topic_prefix: str, producer: EventProducer
) -> None:
    sent = [call_received(f"c-{i}") for i in range(50)]
    positions = await producer.publish_all(sent)
    received: list[Envelope] = []

    async def handler(batch: Batch) -> None:
        received.extend(batch.envelopes)

    consumer = EventConsumer(
        bootstrap_servers=kafka_bootstrap,
        group_id=f"{topic_prefix}roundtrip",
        topics=[CALLS.name(topic_prefix)],
        handler=handler,
        dead_letters=KafkaDeadLetters(producer, DEAD_LETTERS.name(topic_prefix), "roundtrip"),
    )
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    try:

        async def all_received() -> bool:
            return len(received) >= len(sent) and consumer.caught_up

        await eventually(all_received, timeout=30, what="all 50 events consumed")
    finally:
        task.cancel()
        await consumer.stop()
    assert sorted(e.id for e in received) == sorted(e.id for e in sent)
    assert {e.position for e in received} == set(positions)
    assert len({p.partition for p in positions}) > 1, "keys spread over the partitions"
