"""Routing's state in a service: owned (rebuilt, live, consuming calls) or standing by."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from callcenter_events.consumer import EventConsumer
from callcenter_events.producer import EventProducer
from callcenter_service.ownership import OwnerElection

from routing.core import REBUILD_RETRY_S, RoutingCore

log = structlog.get_logger(__name__)


class OwnerComponent:
    """Joins the owner election; while owner: rebuilds, fires timers, consumes intake's calls."""

    name = "routing-state"

    def __init__(
        self,
        core: RoutingCore,
        producer: EventProducer,
        calls_consumer: Callable[[], EventConsumer],
        election: Callable[[OwnerComponent], OwnerElection],
    ) -> None:
        self.core = core
        self._producer = producer
        self._calls_consumer = calls_consumer
        self._consumer: EventConsumer | None = None
        self._term: asyncio.Task[None] | None = None
        self.election = election(self)

    async def start(self) -> None:
        await self.election.start()

    async def stop(self) -> None:
        await self.election.stop()

    def ready(self) -> bool:
        if not self.election.running:
            return False
        if not self.election.is_owner:
            return True  # a healthy standby, ready to take over
        consumer = self._consumer
        return not self.core.stale and consumer is not None and consumer.caught_up

    async def elected(self) -> None:
        self.core.standby = False
        self._term = asyncio.create_task(self._serve(), name="routing-owner-term")

    async def paused(self, paused: bool) -> None:
        """A rebalance: hold still (what was written is flushed) until the partition is back."""
        self.core.pause(paused=paused)
        if paused:
            with contextlib.suppress(Exception):
                await self._producer.flush()

    async def deposed(self) -> None:
        """Stop writing before another instance reads the log: consumer, timers, then flush."""
        self.core.standby = True  # first: from now on nothing rebuilds or writes
        self.core.stale = True
        if self._term is not None:
            self._term.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._term
            self._term = None
        self.core.pause(paused=False)
        with contextlib.suppress(Exception):
            await self._producer.flush()

    async def _rebuild(self) -> None:
        while True:
            try:
                await self.core.rebuild()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("routing_rebuild_retry", error=repr(exc), exc_info=exc)
                await asyncio.sleep(REBUILD_RETRY_S)

    async def _serve(self) -> None:
        """Join the calls consumer's group while the state is rebuilt (its handler waits)."""
        consumer = self._calls_consumer()
        await consumer.start()
        self._consumer = consumer
        tasks = [asyncio.create_task(consumer.run(), name="routing-calls")]
        try:
            await self._rebuild()
            tasks.append(asyncio.create_task(self.core.snapshot_now_and_then(), name="snapshots"))
            await self.core.run_timers()
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await consumer.stop()
            self._consumer = None
