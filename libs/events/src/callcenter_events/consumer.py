"""A Kafka consumer of envelopes: manual commits, batches, dead letters, caught-up tracking."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge

from callcenter_events.batch import BatchHandler, TransientError
from callcenter_events.codec import Record
from callcenter_events.connection import KafkaConnection, client_options
from callcenter_events.deadletter import DeadLetters
from callcenter_events.reading import RawRecord, Reader, dispatch


@dataclass(frozen=True, slots=True)
class ConsumerTuning:
    """Batch size, fetch waits and how often offsets are committed and progress is measured.

    Commits are made at most every `commit_interval_s` (and on revocation and stop): an offset
    is only ever committed after its events were handled, so a crash repeats at most that much
    work, which the handlers' idempotency absorbs.
    """

    max_batch: int = 1000
    fetch_min_bytes: int = 1
    fetch_max_wait_ms: int = 500
    commit_interval_s: float = 1.0
    progress_interval_s: float = 0.5


LOW_LATENCY = ConsumerTuning()
"""Hand over every record at once (routing: received -> offered in milliseconds)."""
BATCHING = ConsumerTuning(fetch_min_bytes=256 * 1024, fetch_max_wait_ms=100)
"""Let the broker gather up to 100 ms of records per fetch (projections: fewer transactions)."""

StartPositions = Callable[[Sequence[tuple[str, int]]], Awaitable[dict[tuple[str, int], int]]]
"""Where to start per partition (for projections that keep their positions with their rows)."""

EVENTS_CONSUMED = Counter(
    "callcenter_events_consumed_total", "Records consumed", ["group", "topic"]
)
CONSUMER_LAG = Gauge("callcenter_consumer_lag", "Records not yet consumed", ["group"])
ASSIGNED_PARTITIONS = Gauge(
    "callcenter_consumer_partitions",
    "Partitions of a topic assigned to this instance's consumer",
    ["group", "topic"],
)
log = structlog.get_logger(__name__)
STOP_WAIT_S = 5.0
"""How long a stop waits for the batch being handled (the pod's grace period is 30 s)."""


class EventConsumer:
    """Consumes `topics` as group `group_id` and hands batches of envelopes to `handler`.

    Offsets are committed only after the handler returned, so every event is handled at least
    once; handlers are idempotent by event id. With `start_positions`, the positions stored by
    the handler decide where each assigned partition starts, not the group's commits.
    """

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        group_id: str,
        topics: Sequence[str],
        handler: BatchHandler,
        dead_letters: DeadLetters,
        reader: Reader | None = None,
        start_positions: StartPositions | None = None,
        tuning: ConsumerTuning = LOW_LATENCY,
        connection: KafkaConnection | None = None,
    ) -> None:
        self.group_id = group_id
        self._topics = list(topics)
        self._handler = handler
        self._dead_letters = dead_letters
        self._reader = reader or Reader()
        self._start_positions = start_positions
        self._tuning = tuning
        self._pending: dict[TopicPartition, int] = {}
        self._last_commit = 0.0
        self._last_progress = 0.0
        self._targets: dict[TopicPartition, int] = {}
        self._caught_up = False
        self._assigned = False
        self.lag = 0
        self._stopping = asyncio.Event()
        self._options = {
            "bootstrap_servers": bootstrap_servers,
            "group_id": group_id,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "isolation_level": "read_committed",
            "max_poll_records": tuning.max_batch,
            "fetch_min_bytes": tuning.fetch_min_bytes,
            "fetch_max_wait_ms": tuning.fetch_max_wait_ms,
            "client_id": group_id,
            # partition p of every topic to the same instance: the calls and routing topics are
            # co-partitioned by call id, and a projection of both (intake's calls) must see a
            # call's received before routing's connect; round robin (aiokafka's default, kept
            # second for groups whose older members know only that) split them over instances
            "partition_assignment_strategy": (RangePartitionAssignor, RoundRobinPartitionAssignor),
            **client_options(connection),
        }
        self._consumer: Any = None
        self._in_flight: asyncio.Future[None] | None = None

    @property
    def topics(self) -> list[str]:
        return list(self._topics)

    @property
    def caught_up(self) -> bool:
        """True once every assigned partition was read up to its end at the first assignment.

        It stays true through later rebalances, so readiness does not flap while a group rebalances.
        """
        return self._caught_up

    async def end_offsets(self) -> dict[tuple[str, int], int]:
        """The current end of every partition assigned to this consumer."""
        assigned = list(self._consumer.assignment()) if self._consumer else []
        if not assigned:
            return {}
        ends = await self._consumer.end_offsets(assigned)
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}

    async def topic_end_offsets(self) -> dict[tuple[str, int], int]:
        """The current end of every partition of its topics, assigned here or elsewhere."""
        if self._consumer is None:
            return {}
        partitions = [
            TopicPartition(topic, partition)
            for topic in self._topics
            for partition in self._consumer.partitions_for_topic(topic) or ()
        ]
        if not partitions:
            return {}
        ends = await self._consumer.end_offsets(partitions)
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(**self._options)
        try:
            await consumer.start()
        except BaseException:
            await consumer.stop()
            raise
        consumer.subscribe(self._topics, listener=_Listener(self))
        self._consumer = consumer

    async def stop(self) -> None:
        self._stopping.set()
        await self._finish_in_flight()
        if self._consumer is not None:
            await self._commit_pending()
            await self._consumer.stop()

    async def run(self) -> None:
        """Consume until `stop()`; a transient failure retries the same batch with backoff."""
        max_records = self._tuning.max_batch
        while not self._stopping.is_set():
            polled = await self._consumer.getmany(timeout_ms=200, max_records=max_records)
            raw = list(raw_records(polled))
            if raw:
                await self._handle(raw)
            now = time.monotonic()
            if now - self._last_commit >= self._tuning.commit_interval_s:
                self._last_commit = now
                await self._commit_pending()
            if not self._caught_up or now - self._last_progress >= self._tuning.progress_interval_s:
                self._last_progress = now
                await self._update_progress()

    async def _handle(self, raw: list[RawRecord]) -> None:
        """Handle a batch to its end, even if `run` is cancelled meanwhile (a stop).

        `stop` waits for it and commits it: what a handler did (facts written, rows stored) is
        not handled again after a restart, and no handler is cut off half-way at a shutdown.
        """
        self._in_flight = asyncio.ensure_future(self._process(raw))
        await asyncio.shield(self._in_flight)

    async def _finish_in_flight(self) -> None:
        """Wait (bounded) for the batch being handled; one that cannot finish is abandoned."""
        batch = self._in_flight
        if batch is None or batch.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(batch), STOP_WAIT_S)
        except TimeoutError:
            batch.cancel()
            log.warning("batch_abandoned_at_stop", group=self.group_id, waited_s=STOP_WAIT_S)
        except Exception as exc:
            log.warning("batch_failed_at_stop", group=self.group_id, error=repr(exc))

    async def _process(self, raw: list[RawRecord]) -> None:
        batch, failed = self._reader.read(raw)
        delay = 0.1
        while True:
            try:
                await dispatch(batch, failed, self._handler, self._dead_letters)
                break
            except TransientError as exc:
                if self._stopping.is_set():
                    raise  # not retried at a stop: uncommitted, handled again after a restart
                log.warning("transient_failure_retrying", error=repr(exc), delay_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                failed = []
        for topic, count in _count_by_topic(raw).items():
            EVENTS_CONSUMED.labels(self.group_id, topic).inc(count)
        for (topic, partition), offset in batch.next_offsets.items():
            self._pending[TopicPartition(topic, partition)] = offset

    async def _commit_pending(self, only: set[TopicPartition] | None = None) -> None:
        offsets = {tp: o for tp, o in self._pending.items() if only is None or tp in only}
        if not offsets:
            return
        for tp in offsets:
            del self._pending[tp]
        try:
            await self._consumer.commit(offsets)
        except KafkaError as exc:
            # A rebalance took the partitions away; their new owner reads them again and the
            # handlers' idempotency absorbs the repeat.
            log.warning("commit_failed", group=self.group_id, error=repr(exc))

    async def _update_progress(self) -> None:
        behind = False
        lag = 0
        for tp in self._consumer.assignment():
            position = await self._consumer.position(tp)
            highwater = self._consumer.highwater(tp)
            lag += max((highwater or 0) - position, 0)
            behind = behind or position < self._targets.get(tp, 0)
        self.lag = lag
        CONSUMER_LAG.labels(self.group_id).set(lag)
        if self._assigned and not behind and not self._caught_up:
            self._caught_up = True
            log.info("consumer_caught_up", group=self.group_id)

    async def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        self._assigned = True
        for topic in self._topics:
            held = sum(tp.topic == topic for tp in assigned)
            ASSIGNED_PARTITIONS.labels(self.group_id, topic).set(held)
        if not assigned:
            return
        self._targets = dict(await self._consumer.end_offsets(list(assigned)))
        if self._start_positions is not None:
            stored = await self._start_positions([(tp.topic, tp.partition) for tp in assigned])
            for tp in assigned:
                self._consumer.seek(tp, stored.get((tp.topic, tp.partition), 0))
        log.info("partitions_assigned", group=self.group_id, partitions=len(assigned))


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: EventConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._owner._commit_pending(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._owner._on_assigned(assigned)


def raw_records(polled: dict[TopicPartition, list[object]]) -> Iterable[RawRecord]:
    """aiokafka's polled messages as the library's raw records."""
    for tp, messages in polled.items():
        for message in messages:
            record = Record(
                key=message.key,  # type: ignore[attr-defined]
                value=message.value,  # type: ignore[attr-defined]
                headers=tuple(message.headers or ()),  # type: ignore[attr-defined]
            )
            yield RawRecord(tp.topic, tp.partition, message.offset, record)  # type: ignore[attr-defined]


def _count_by_topic(raw: list[RawRecord]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in raw:
        counts[record.topic] = counts.get(record.topic, 0) + 1
    return counts
