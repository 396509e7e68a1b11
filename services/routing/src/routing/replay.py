"""Reading routing's facts back from the log: every fact topic from the start (or from a
snapshot's positions) up to its end, merged by fact number into the order they happened."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from callcenter_events import Event
from callcenter_events.broadcast import partitions_of
from callcenter_events.consumer import raw_records
from callcenter_events.reading import Reader
from callcenter_events.topics import AGENTS, ROUTING, TENANTS

from routing.facts import FACT_TYPES

log = structlog.get_logger(__name__)
FACT_TOPICS = (ROUTING, AGENTS, TENANTS)
Positions = dict[tuple[str, int], int]
READ_SLICE = 2000  # records decoded between two turns of the event loop (heartbeats)


@dataclass(slots=True)
class FactsRead:
    """The facts after the start positions, ordered by `seq`, and where each partition ended."""

    facts: list[Event] = field(default_factory=list)
    ends: Positions = field(default_factory=dict)
    records: int = 0
    seconds: float = 0.0


class FactReader:
    def __init__(self, bootstrap_servers: str, topic_prefix: str) -> None:
        self._bootstrap = bootstrap_servers
        self._topics = [topic.name(topic_prefix) for topic in FACT_TOPICS]

    async def end_offsets(self) -> Positions:
        """Where every fact partition ends now."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None)
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

    async def read(self, start: Mapping[tuple[str, int], int] | None = None) -> FactsRead:
        began = time.monotonic()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await consumer.start()
        try:
            found = await self._read(consumer, dict(start or {}))
        finally:
            await consumer.stop()
        found.facts.sort(key=lambda fact: fact.seq)  # type: ignore[attr-defined]
        found.seconds = time.monotonic() - began
        log.info("routing_facts_read", facts=len(found.facts), records=found.records)
        return found

    async def _read(self, consumer: AIOKafkaConsumer, start: Positions) -> FactsRead:
        assigned = await self._partitions()
        consumer.assign(assigned)
        for tp in assigned:
            consumer.seek(tp, start.get((tp.topic, tp.partition), 0))
        ends = await consumer.end_offsets(assigned)
        found = FactsRead(ends={(tp.topic, tp.partition): end for tp, end in ends.items()})
        reader = Reader(types=FACT_TYPES)
        pending = {tp for tp in assigned if await consumer.position(tp) < ends[tp]}
        while pending:
            polled = await consumer.getmany(*pending, timeout_ms=200, max_records=READ_SLICE)
            records = [
                r
                for r in raw_records(polled)
                if r.offset < ends[TopicPartition(r.topic, r.partition)]
            ]
            found.records += len(records)
            batch, failed = reader.read(records)
            for failure in failed:
                log.error("routing_fact_unreadable", topic=failure.topic, reason=failure.reason)
            found.facts.extend(envelope.data for envelope in batch.envelopes)
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        return found
