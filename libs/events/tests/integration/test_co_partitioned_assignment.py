"""Two instances of one consumer group: partition p of every topic goes to the same instance.

The calls and routing topics are co-partitioned by call id, and intake's call projection reads
both: a call's `call.connected` (routing topic) only moves a call its `call.received` (calls
topic) created. Found by the scale-out fault test: with aiokafka's default round-robin
assignor, calls-p went to one intake instance and routing-p to the other; when the first was
killed, the second applied connects of calls whose received nobody had projected yet, and
those calls stayed `queued` in intake for good. The range assignor keeps partition p of both
topics together.
"""

from __future__ import annotations

import asyncio

import pytest
from callcenter_events import Batch
from callcenter_events.consumer import EventConsumer
from callcenter_events.deadletter import KafkaDeadLetters
from callcenter_events.producer import EventProducer
from callcenter_events.topics import CALLS, DEAD_LETTERS, PRIVACY, ROUTING
from callcenter_testkit import eventually

pytestmark = pytest.mark.kafka


async def test_partition_p_of_both_topics_goes_to_one_instance(
    kafka_bootstrap: str, topic_prefix: str, producer: EventProducer
) -> None:
    async def ignore(batch: Batch) -> None:
        pass

    consumers = [
        EventConsumer(
            bootstrap_servers=kafka_bootstrap,
            group_id=f"{topic_prefix}copartitioned",
            topics=[t.name(topic_prefix) for t in (CALLS, ROUTING, PRIVACY)],
            handler=ignore,
            dead_letters=KafkaDeadLetters(producer, DEAD_LETTERS.name(topic_prefix), "test"),
        )
        for _ in range(2)
    ]
    for consumer in consumers:
        await consumer.start()
    runs = [asyncio.create_task(consumer.run()) for consumer in consumers]
    try:
        held: list[dict[str, set[int]]] = []

        async def divided() -> bool:
            held.clear()
            for consumer in consumers:
                by_topic: dict[str, set[int]] = {}
                for topic, partition in await consumer.end_offsets():
                    by_topic.setdefault(topic, set()).add(partition)
                held.append(by_topic)
            calls = CALLS.name(topic_prefix)
            shares = [len(h.get(calls, ())) for h in held]
            return sum(shares) == 6 and min(shares) > 0

        await eventually(divided, timeout=60, interval=0.2, what="both consumers assigned")
        for by_topic in held:
            calls = by_topic[CALLS.name(topic_prefix)]
            assert by_topic[ROUTING.name(topic_prefix)] == calls, held
    finally:
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
        await asyncio.gather(*(consumer.stop() for consumer in consumers))
