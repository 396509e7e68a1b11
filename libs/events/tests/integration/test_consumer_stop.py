"""A consumer stopped while its handler is mid-way: the batch finishes and is committed.

A stop cancels the consumer's loop (as a service's shutdown does); the batch in hand still runs
to its end, bounded by `STOP_WAIT_S`, and its offsets are the last ones committed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from callcenter_events import Batch, Envelope
from callcenter_events import consumer as consumer_module
from callcenter_events.batch import BatchHandler
from callcenter_events.consumer import EventConsumer
from callcenter_events.deadletter import KafkaDeadLetters
from callcenter_events.producer import EventProducer
from callcenter_events.testing import call_received
from callcenter_events.topics import CALLS, DEAD_LETTERS
from callcenter_testkit.shutdown import committed_offsets

pytestmark = pytest.mark.kafka


@pytest.fixture
async def producer(kafka_bootstrap: str, topic_prefix: str) -> AsyncIterator[EventProducer]:
    producer = EventProducer(kafka_bootstrap, client_id="test", topic_prefix=topic_prefix)
    await producer.start()
    await producer.publish_all([call_received(f"c-{i}") for i in range(20)])
    yield producer
    await producer.stop()


def _consumer(
    bootstrap: str, prefix: str, producer: EventProducer, handler: BatchHandler
) -> EventConsumer:
    return EventConsumer(
        bootstrap_servers=bootstrap,
        group_id=f"{prefix}stopping",
        topics=[CALLS.name(prefix)],
        handler=handler,
        dead_letters=KafkaDeadLetters(producer, DEAD_LETTERS.name(prefix), "stopping"),
    )


async def _stopped_mid_batch(consumer: EventConsumer, entered: asyncio.Event) -> asyncio.Task[None]:
    """Run until the handler is entered, then stop as a shutdown does: cancel the loop, stop."""
    await consumer.start()
    run = asyncio.create_task(consumer.run())
    await asyncio.wait_for(entered.wait(), 30)
    run.cancel()
    return asyncio.create_task(consumer.stop())


async def test_the_batch_in_hand_finishes_and_is_committed(
    kafka_bootstrap: str, topic_prefix: str, producer: EventProducer
) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    handled: list[Envelope] = []

    async def handler(batch: Batch) -> None:
        entered.set()
        await release.wait()  # mid-way when the stop comes
        handled.extend(batch.envelopes)

    consumer = _consumer(kafka_bootstrap, topic_prefix, producer, handler)
    stopping = await _stopped_mid_batch(consumer, entered)
    release.set()
    await stopping
    committed = await committed_offsets(kafka_bootstrap, f"{topic_prefix}stopping")
    assert handled, "the handler was cut off"
    for event in handled:
        assert event.position is not None
        position = (event.position.topic, event.position.partition)
        assert event.position.offset < committed.get(position, 0), event.position


async def test_a_handler_that_never_finishes_is_abandoned_uncommitted(
    kafka_bootstrap: str,
    topic_prefix: str,
    producer: EventProducer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(consumer_module, "STOP_WAIT_S", 0.5)
    entered = asyncio.Event()

    async def handler(_batch: Batch) -> None:
        entered.set()
        await asyncio.Event().wait()  # waits for something that never happens

    consumer = _consumer(kafka_bootstrap, topic_prefix, producer, handler)
    stopping = await _stopped_mid_batch(consumer, entered)
    began = time.monotonic()
    await asyncio.wait_for(stopping, 10)
    assert time.monotonic() - began < 5
    assert await committed_offsets(kafka_bootstrap, f"{topic_prefix}stopping") == {}
