"""Reading routing's facts back from the log: every fact topic from the start (or from a
snapshot's positions) up to its end, merged by fact number into the order they happened."""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import AsyncIterator, Mapping

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from callcenter_events import Event
from callcenter_events.broadcast import partitions_of
from callcenter_events.connection import client_options
from callcenter_events.consumer import raw_records
from callcenter_events.reading import Reader
from callcenter_events.topics import AGENTS, ROUTING, TENANTS

from routing.facts import FACT_TYPES

log = structlog.get_logger(__name__)
FACT_TOPICS = (ROUTING, AGENTS, TENANTS)
Positions = dict[tuple[str, int], int]
READ_SLICE = 2000  # records decoded between two turns of the event loop (heartbeats)


class FactStream:
    """The facts after the start positions, one by one in `seq` order, up to `ends`.

    Each partition holds its facts in `seq` order (one writer, in order), so a k-way merge of
    the partitions gives the order they happened in, holding only what was fetched ahead.
    """

    def __init__(self, consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> None:
        self._consumer = consumer
        self._ends = ends
        self._reader = Reader(types=FACT_TYPES)
        self.records = 0

    @property
    def ends(self) -> Positions:
        return {(tp.topic, tp.partition): end for tp, end in self._ends.items()}

    async def __aiter__(self) -> AsyncIterator[Event]:
        buffers: dict[TopicPartition, deque[Event]] = {tp: deque() for tp in self._ends}
        fetching = {tp for tp in self._ends if await self._consumer.position(tp) < self._ends[tp]}
        while True:
            waiting_on = fetching | {tp for tp, facts in buffers.items() if facts}
            while waiting_on and all(buffers[tp] for tp in waiting_on):
                first = min(waiting_on, key=lambda tp: buffers[tp][0].seq)  # type: ignore[attr-defined]
                yield buffers[first].popleft()
                if not buffers[first] and first not in fetching:
                    waiting_on.discard(first)
            if not fetching:
                return
            await self._fetch(buffers, fetching)
            fetching = {tp for tp in fetching if await self._consumer.position(tp) < self._ends[tp]}

    async def _fetch(
        self, buffers: dict[TopicPartition, deque[Event]], fetching: set[TopicPartition]
    ) -> None:
        polled = await self._consumer.getmany(*fetching, timeout_ms=200, max_records=READ_SLICE)
        records = [
            r
            for r in raw_records(polled)
            if r.offset < self._ends[TopicPartition(r.topic, r.partition)]
        ]
        self.records += len(records)
        batch, failed = self._reader.read(records)
        for failure in failed:
            log.error("routing_fact_unreadable", topic=failure.topic, reason=failure.reason)
        for envelope in batch.envelopes:
            assert envelope.position is not None
            where = TopicPartition(envelope.position.topic, envelope.position.partition)
            buffers[where].append(envelope.data)


class FactReader:
    def __init__(self, bootstrap_servers: str, topic_prefix: str) -> None:
        self._bootstrap = bootstrap_servers
        self._topics = [topic.name(topic_prefix) for topic in FACT_TOPICS]

    async def end_offsets(self) -> Positions:
        """Where every fact partition ends now."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=None, **client_options()
        )
        await consumer.start()
        try:
            assigned = await self._partitions()
            ends = await consumer.end_offsets(assigned)
        finally:
            await consumer.stop()
        return {(tp.topic, tp.partition): end for tp, end in ends.items()}

    async def _partitions(self) -> list[TopicPartition]:
        return [
            TopicPartition(topic, partition)
            for topic in self._topics
            for partition in await partitions_of(self._bootstrap, topic)
        ]

    @contextlib.asynccontextmanager
    async def stream(
        self, start: Mapping[tuple[str, int], int] | None = None
    ) -> AsyncIterator[FactStream]:
        """The facts from `start` (default: the beginning) to the log's end as of now."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            **client_options(),
        )
        await consumer.start()
        try:
            assigned = await self._partitions()
            consumer.assign(assigned)
            for tp in assigned:
                consumer.seek(tp, dict(start or {}).get((tp.topic, tp.partition), 0))
            yield FactStream(consumer, dict(await consumer.end_offsets(assigned)))
        finally:
            await consumer.stop()
