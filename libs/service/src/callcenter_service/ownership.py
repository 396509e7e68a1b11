"""One active owner among a service's instances: the member of a group that holds one partition.

Every instance joins a consumer group (routing's `routing.owner`, the surveys dialer's
`surveys.dialer`) on an empty one-partition topic. Kafka's group coordinator assigns that
partition to exactly one live member: the owner. When the owner stops (its partition is revoked
as it leaves) or dies (its session times out), the coordinator assigns the partition to a
standby, which takes over (routing rebuilds its state from the log first).

The sticky assignor keeps the partition where it is when an instance joins. A rebalance still
revokes it for a moment: the owner pauses (and flushes what it wrote), and resumes with its
state intact if the partition comes back in the very next assignment, as nobody else can have
held it in between.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
from callcenter_events.connection import KafkaConnection, client_options
from prometheus_client import Gauge

log = structlog.get_logger(__name__)
IS_OWNER = Gauge("callcenter_owner", "1 while this instance is the active owner", ["group"])
SESSION_TIMEOUT_MS = 6000  # the broker's smallest allowed: how long a dead owner holds on
HEARTBEAT_INTERVAL_MS = 1000


class OwnerElection:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        group_id: str,
        topic: str,
        on_elected: Callable[[], Awaitable[None]],
        on_deposed: Callable[[], Awaitable[None]],
        on_paused: Callable[[bool], Awaitable[None]],
        connection: KafkaConnection | None = None,
    ) -> None:
        self._topic = topic
        self._group = group_id
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._on_paused = on_paused
        self._options: dict[str, Any] = {
            "bootstrap_servers": bootstrap_servers,
            "group_id": group_id,
            "client_id": group_id,
            "enable_auto_commit": False,
            "session_timeout_ms": SESSION_TIMEOUT_MS,
            "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
            "partition_assignment_strategy": (StickyPartitionAssignor,),
            **client_options(connection),
        }
        self._consumer: Any = None
        self._task: asyncio.Task[None] | None = None
        self._owner = False

    @property
    def is_owner(self) -> bool:
        return self._owner

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(**self._options)
        await consumer.start()
        consumer.subscribe([self._topic], listener=_Listener(self))
        self._consumer = consumer
        self._task = asyncio.create_task(self._stay_in_group(), name=f"{self._group}-election")

    async def stop(self) -> None:
        """Step down (if owner) first, then leave the group: a standby takes over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._assigned(owner=False)
        if self._consumer is not None:
            await self._consumer.stop()

    async def _stay_in_group(self) -> None:
        while True:  # polling keeps the membership (the topic is empty: nothing arrives)
            await self._consumer.getmany(timeout_ms=1000)

    async def _revoked(self) -> None:
        if self._owner:
            await self._on_paused(True)

    async def _assigned(self, *, owner: bool) -> None:
        if owner == self._owner:
            if owner:
                await self._on_paused(False)
            return
        self._owner = owner
        IS_OWNER.labels(self._group).set(1 if owner else 0)
        log.info("ownership", group=self._group, owner=owner)
        await (self._on_elected() if owner else self._on_deposed())


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, election: OwnerElection) -> None:
        self._election = election

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if revoked:
            await self._election._revoked()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._election._assigned(owner=bool(assigned))
