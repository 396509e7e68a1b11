"""Reading a whole topic into every instance's memory (no consumer group, no commits).

For small, slowly changing state that every instance of every service needs in full, such as
the tenants and their API keys: each instance assigns itself all partitions, reads from offset
zero and then follows the topic, so a change reaches all of them within a fetch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from callcenter_events.connection import KafkaConnection, client_options
from callcenter_events.consumer import raw_records
from callcenter_events.envelope import Envelope
from callcenter_events.reading import RawRecord, Reader

log = structlog.get_logger(__name__)


class TopicFollower:
    """Reads every partition of one topic from offset zero and follows it; subclasses apply."""

    def __init__(
        self, bootstrap_servers: str, topic: str, *, connection: KafkaConnection | None = None
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._topic = topic
        self._connection = connection
        self._consumer: Any = None
        self._targets: dict[TopicPartition, int] = {}
        self._caught_up = False
        self._stopping = False

    def _apply_records(self, records: Iterable[RawRecord]) -> None:
        raise NotImplementedError

    @property
    def caught_up(self) -> bool:
        return self._caught_up

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=100,
            **client_options(self._connection),
        )
        await consumer.start()
        try:
            partitions = await partitions_of(self._bootstrap, self._topic, self._connection)
            assigned = [TopicPartition(self._topic, p) for p in partitions]
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            self._targets = dict(await consumer.end_offsets(assigned))
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer

    async def stop(self) -> None:
        self._stopping = True
        if self._consumer is not None:
            await self._consumer.stop()

    async def run(self) -> None:
        while not self._stopping:
            polled = await self._consumer.getmany(timeout_ms=100, max_records=1000)
            self._apply_records(raw_records(polled))
            if not self._caught_up:
                self._caught_up = await self._reached(self._targets)

    async def catch_up(self, timeout: float) -> bool:
        """Wait (at most `timeout` s) until everything written to the topic up to now is read."""
        targets = dict(await self._consumer.end_offsets(list(self._targets)))
        deadline = time.monotonic() + timeout
        while not await self._reached(targets):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    async def _reached(self, targets: dict[TopicPartition, int]) -> bool:
        for tp, end in targets.items():
            if await self._consumer.position(tp) < end:
                return False
        return True


class BroadcastReader(TopicFollower):
    """A topic of events, each applied in order (malformed ones are logged and skipped)."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        apply: Callable[[Envelope], None],
        *,
        reader: Reader | None = None,
        connection: KafkaConnection | None = None,
    ) -> None:
        super().__init__(bootstrap_servers, topic, connection=connection)
        self._apply = apply
        self._reader = reader or Reader()

    def _apply_records(self, records: Iterable[RawRecord]) -> None:
        batch, failed = self._reader.read(records)
        for failure in failed:
            log.error("broadcast_record_skipped", topic=failure.topic, reason=failure.reason)
        for envelope in batch.envelopes:
            self._apply(envelope)


UNKNOWN_TOPIC = 3
NEW_TOPIC_WAIT_S = 5.0


async def partitions_of(
    bootstrap_servers: str, topic: str, connection: KafkaConnection | None = None
) -> list[int]:
    """The topic's partitions; a topic created a moment ago may take a while to be known."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id="broadcast", **client_options(connection)
    )
    await admin.start()
    deadline = time.monotonic() + NEW_TOPIC_WAIT_S
    try:
        while True:
            [described] = await admin.describe_topics([topic])
            error = described.get("error_code")
            partitions = sorted(p["partition"] for p in described.get("partitions", []))
            if not error and partitions:
                return partitions
            if error not in (0, UNKNOWN_TOPIC, None) or time.monotonic() > deadline:
                raise LookupError(f"topic {topic} does not exist (error {error})")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
