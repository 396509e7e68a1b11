"""`catch_up` with two instances of a service: every partition counts, not only its own.

Instances of a service share their projection's database and divide its partitions. A read
that misses catches up and reads again, to find a write made a moment ago through another
instance. Found by the scale-out fault test: `catch_up` waited only for the partitions
assigned to its own instance, so it came back at once and the read answered 404 for a call
the other instance had just acknowledged (`POST /v1/calls/{id}/hangup` right after
`POST /v1/calls` through the other intake).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from callcenter_events import Envelope
from callcenter_events.producer import EventProducer
from callcenter_events.store import ProjectionStore, make_engine
from callcenter_events.testing import call_received
from callcenter_events.topics import CALLS, Topic
from callcenter_service.projection import ProjectionRunner
from callcenter_service.settings import ServiceSettings
from callcenter_testkit import eventually
from sqlalchemy import Engine
from sqlmodel import Session

pytestmark = pytest.mark.kafka


class Nothing:
    """A projection that keeps only its positions."""

    name: str = "nothing"
    version: int = 1
    types: frozenset[str] = frozenset({"call.received"})
    topics: tuple[Topic, ...] = (CALLS,)

    def create_tables(self, engine: Engine) -> None:
        pass

    def apply(self, session: Session, envelopes: Sequence[Envelope]) -> None:
        pass


async def test_a_partition_held_by_another_instance_is_waited_for(
    kafka_bootstrap: str, topic_prefix: str, producer: EventProducer, tmp_path: Path
) -> None:
    settings = ServiceSettings(kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix)
    store = ProjectionStore(make_engine(f"sqlite:///{tmp_path / 'p.sqlite3'}"), Nothing())
    runner = ProjectionRunner(store, settings, producer, service="test")
    # the other instance: a member of the same group that holds partitions and projects nothing
    other = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap,
        group_id=runner.consumer.group_id,
        enable_auto_commit=False,
    )
    await other.start()
    other.subscribe([CALLS.name(topic_prefix)])
    await runner.component.start()
    try:

        async def divided() -> bool:
            await other.getmany(timeout_ms=100)
            return bool(other.assignment()) and bool(await runner.consumer.end_offsets())

        await eventually(divided, timeout=60, what="the partitions divided")
        elsewhere = {tp.partition for tp in other.assignment()}
        n = 0
        while True:  # a call on a partition the other instance holds
            n += 1
            position = await producer.publish(call_received(f"c-{n}"))
            if position.partition in elsewhere:
                break
        assert not await runner.catch_up(1.0), "caught up without the other instance's partition"
        await other.stop()  # it leaves: the runner takes its partitions and projects them
        assert await runner.catch_up(60.0)
    finally:
        await asyncio.gather(runner.component.stop(), other.stop())
        store.engine.dispose()
