"""One build at work: its runner (consumer + store), and how far behind the log it is."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from callcenter_events.broadcast import partitions_of
from callcenter_events.connection import client_options
from callcenter_events.producer import EventProducer
from callcenter_events.store import ProjectionStore, in_db_thread
from callcenter_service.projection import ProjectionRunner
from callcenter_service.settings import ServiceSettings
from sqlalchemy import Engine

from analytics.builds import Build, BuildProjection
from analytics.projection import AnalyticsProjection

SERVICE = "analytics"


class BuildRun:
    """A build's consumer, in this service's consumer group of that build."""

    def __init__(
        self,
        engine: Engine,
        projection: AnalyticsProjection,
        build: Build,
        settings: ServiceSettings,
        producer: EventProducer,
    ) -> None:
        self.build = build
        self.projection = BuildProjection(projection, build)
        self.store = ProjectionStore(engine, self.projection)
        self.runner = ProjectionRunner(self.store, settings, producer, service=SERVICE)

    async def start(self) -> None:
        await self.runner.component.start()

    async def stop(self) -> None:
        await self.runner.component.stop()

    def ready(self) -> bool:
        return self.runner.component.ready()


class LogEnds:
    """The end offsets of whole topics (every partition), for the lag of any build."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap = bootstrap_servers
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions: dict[str, list[int]] = {}
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=None, **client_options()
        )
        await consumer.start()
        self._consumer = consumer

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def ends(self, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        async with self._lock:
            wanted = [TopicPartition(t, p) for t in topics for p in await self._of(t)]
            assert self._consumer is not None, "LogEnds.start() first"
            found = await self._consumer.end_offsets(wanted)
        return {(tp.topic, tp.partition): offset for tp, offset in found.items()}

    async def _of(self, topic: str) -> list[int]:
        if topic not in self._partitions:
            self._partitions[topic] = await partitions_of(self._bootstrap, topic)
        return self._partitions[topic]


async def progress(
    engine: Engine, projection: BuildProjection, topics: Sequence[str], ends: LogEnds
) -> tuple[int, int]:
    """(events read, events behind) of a build: its stored positions against the log's ends."""
    store = ProjectionStore(engine, projection)
    stored = await in_db_thread(engine, store.positions)
    end = await ends.ends(topics)
    position = sum(stored.get(tp, 0) for tp in end)
    lag = sum(max(offset - stored.get(tp, 0), 0) for tp, offset in end.items())
    return position, lag


async def ready_to_swap(
    engine: Engine,
    new: BuildProjection,
    live: BuildProjection | None,
    topics: Sequence[str],
    ends: LogEnds,
) -> tuple[int, int, bool]:
    """The new build's (events read, events behind), and whether it may take the live build's
    place: no further behind the log than the live one (at the log's end if there is none)."""
    position, lag = await progress(engine, new, topics, ends)
    live_lag = 0 if live is None else (await progress(engine, live, topics, ends))[1]
    return position, lag, lag <= live_lag
