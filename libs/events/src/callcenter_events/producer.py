"""A durable Kafka producer for envelopes: idempotent, acks=all, pipelined."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import OutOfOrderSequenceNumber
from prometheus_client import Counter

from callcenter_events.codec import Record, encode
from callcenter_events.connection import KafkaConnection, client_options
from callcenter_events.envelope import Envelope, Position
from callcenter_events.handling import trace_headers
from callcenter_events.registry import REGISTRY, EventRegistry

log = structlog.get_logger(__name__)
FATAL_TO_THE_PRODUCER = (OutOfOrderSequenceNumber,)
"""Errors after which an idempotent producer's sequence state is broken for good (as Kafka's
own clients treat them): every later send would fail the same way, so it is replaced."""
EVENTS_PUBLISHED = Counter("callcenter_events_published_total", "Events written to Kafka", ["type"])
RENEW_STOP_S = 5.0
MAX_BATCH_BYTES = 256 * 1024
"""Per partition. aiokafka buffers one batch per partition and `send` waits while it is full, so
with its 16 KB default a burst to one partition (one tenant's customer import) went out 16 KB
per broker round trip; the broker takes up to 1 MB."""


class EventProducer:
    """Publishes envelopes to the topic of their type. Start before use, stop at shutdown."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str,
        topic_prefix: str = "",
        linger_ms: int = 2,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        registry: EventRegistry = REGISTRY,
        connection: KafkaConnection | None = None,
    ) -> None:
        self._prefix = topic_prefix
        self._registry = registry
        self._options = {
            "bootstrap_servers": bootstrap_servers,
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": linger_ms,
            "max_batch_size": max_batch_bytes,
            "request_timeout_ms": 15000,
            **client_options(connection),
        }
        self._producer: AIOKafkaProducer | None = None
        self._renewing = asyncio.Lock()

    async def start(self) -> None:
        producer = AIOKafkaProducer(**self._options)
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    @property
    def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("the producer is not started")
        return self._producer

    def topic_of(self, envelope: Envelope) -> str:
        return self._registry.spec(envelope.type).topic.name(self._prefix)

    async def publish(self, envelope: Envelope) -> Position:
        delivery = await self._send(self.topic_of(envelope), _record(envelope))
        position = _position(await self._delivered(delivery))
        EVENTS_PUBLISHED.labels(envelope.type).inc()
        return position

    async def publish_all(self, envelopes: Sequence[Envelope]) -> list[Position]:
        return await self.acknowledged(await self.enqueue_all(envelopes), envelopes)

    async def enqueue_all(self, envelopes: Sequence[Envelope]) -> list[asyncio.Future[Any]]:
        """Hand the events to the producer in this order (per partition, the log's order)."""
        return [
            await self._send(self.topic_of(envelope), _record(envelope)) for envelope in envelopes
        ]

    async def acknowledged(
        self, deliveries: Sequence[asyncio.Future[Any]], envelopes: Sequence[Envelope]
    ) -> list[Position]:
        """Wait until the broker acknowledged every delivery: where each event landed."""
        delivered = [self._delivered(delivery) for delivery in deliveries]
        positions = [_position(metadata) for metadata in await asyncio.gather(*delivered)]
        for envelope in envelopes:
            EVENTS_PUBLISHED.labels(envelope.type).inc()
        return positions

    async def flush(self) -> None:
        """Wait until everything handed over so far is sent (and acknowledged or failed)."""
        if self._producer is not None:
            await self._producer.flush()

    async def send_record(self, topic: str, record: Record) -> Position:
        """Write a raw record (the dead-letter topic) and wait for the broker's acknowledgement."""
        return _position(await self._delivered(await self._send(topic, record)))

    async def _delivered(self, delivery: asyncio.Future[Any]) -> Any:
        """The delivery's metadata; a producer left broken by its failure is replaced first
        (the failure is still raised: the caller answers it as before)."""
        producer = self._producer
        try:
            return await delivery
        except FATAL_TO_THE_PRODUCER:
            await self._renew(producer)
            raise

    async def _renew(self, broken: AIOKafkaProducer | None) -> None:
        async with self._renewing:
            current = self._producer
            if broken is None or current is not broken or current is None:
                return  # another failed delivery of the same producer renewed it already
            log.warning("producer_renewed", reason="fatal to the idempotent producer")
            self._producer = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(current.stop(), RENEW_STOP_S)
            await self.start()

    async def _send(self, topic: str, record: Record) -> asyncio.Future[Any]:
        """Queue a record; the future resolves to its metadata once the broker acknowledged it."""
        future: asyncio.Future[Any] = await self._started.send(
            topic, value=record.value, key=record.key, headers=list(record.headers)
        )
        return future

    async def partitions_for(self, topic: str) -> set[int]:
        return set(await self._started.partitions_for(topic))


def _record(envelope: Envelope) -> Record:
    """The event's record, with the W3C trace context of the work that causes it."""
    return encode(envelope, () if envelope.traceparent else trace_headers(envelope))


def _position(metadata: Any) -> Position:
    return Position(topic=metadata.topic, partition=metadata.partition, offset=metadata.offset)
