"""An in-memory event bus with the publisher interface, for fast unit tests of handlers.

Records go through the real codec and are read back through the same `Reader` and `dispatch`
as on Kafka, so a handler tested here meets the same rules (dead letters, duplicates, batches).
Each topic has a single partition.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from callcenter_events.batch import BatchHandler
from callcenter_events.codec import Record, decode, encode
from callcenter_events.deadletter import Failed
from callcenter_events.envelope import Envelope, Position
from callcenter_events.handling import trace_headers
from callcenter_events.reading import RawRecord, Reader, dispatch
from callcenter_events.registry import REGISTRY, EventRegistry


class InMemoryDeadLetters:
    def __init__(self) -> None:
        self.failed: list[Failed] = []

    async def send(self, failed: Failed) -> None:
        self.failed.append(failed)


class InMemoryBus:
    def __init__(self, *, topic_prefix: str = "", registry: EventRegistry = REGISTRY) -> None:
        self._prefix = topic_prefix
        self._registry = registry
        self._records: defaultdict[str, list[Record]] = defaultdict(list)
        self._offsets: dict[tuple[str, str], int] = {}
        self.dead_letters = InMemoryDeadLetters()

    def topic_of(self, envelope: Envelope) -> str:
        return self._registry.spec(envelope.type).topic.name(self._prefix)

    async def publish(self, envelope: Envelope) -> Position:
        trace = () if envelope.traceparent else trace_headers(envelope)
        return self.append(self.topic_of(envelope), encode(envelope, trace))

    async def publish_all(self, envelopes: Sequence[Envelope]) -> list[Position]:
        return [await self.publish(envelope) for envelope in envelopes]

    async def enqueue_all(self, envelopes: Sequence[Envelope]) -> list[asyncio.Future[Any]]:
        """As the producer's: each future resolves to the event's position (here at once)."""
        loop = asyncio.get_running_loop()
        deliveries: list[asyncio.Future[Any]] = []
        for envelope in envelopes:
            delivery = loop.create_future()
            delivery.set_result(await self.publish(envelope))
            deliveries.append(delivery)
        return deliveries

    async def acknowledged(
        self, deliveries: Sequence[asyncio.Future[Any]], _envelopes: Sequence[Envelope]
    ) -> list[Position]:
        return list(await asyncio.gather(*deliveries))

    async def flush(self) -> None:
        """Everything is written at once here."""

    def append(self, topic: str, record: Record) -> Position:
        """Append a raw record, as a foreign producer (or a broken one) would."""
        self._records[topic].append(record)
        return Position(topic, 0, len(self._records[topic]) - 1)

    def envelopes(self, topic: str) -> list[Envelope]:
        return [decode(record, self._registry) for record in self._records[topic]]

    async def deliver(
        self, handler: BatchHandler, *, group: str, topics: Sequence[str], reader: Reader | None
    ) -> int:
        """Hand every record `group` has not seen yet to `handler`; answers how many there were."""
        raw = [record for topic in topics for record in self._unread(group, topic)]
        if raw:
            batch, failed = (reader or Reader(registry=self._registry)).read(raw)
            await dispatch(batch, failed, handler, self.dead_letters)
        return len(raw)

    def _unread(self, group: str, topic: str) -> list[RawRecord]:
        start = self._offsets.get((group, topic), 0)
        records = self._records[topic][start:]
        self._offsets[(group, topic)] = start + len(records)
        return [RawRecord(topic, 0, start + i, record) for i, record in enumerate(records)]
