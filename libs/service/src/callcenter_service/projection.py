"""One projection at work in a service: its store (rows + positions) and the consumer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

from callcenter_events import Position
from callcenter_events.consumer import BATCHING, EventConsumer
from callcenter_events.producer import EventProducer
from callcenter_events.store import ProjectionStore, in_db_thread

from callcenter_service.problems import ProblemError
from callcenter_service.projection_metrics import PROJECTION_LAG
from callcenter_service.runtime import ConsumerComponent
from callcenter_service.settings import ServiceSettings
from callcenter_service.wiring import event_consumer

POSITION_WAIT_S = 5.0
CATCH_UP_S = 2.0
T = TypeVar("T")


class ProjectionRunner:
    def __init__(
        self,
        store: ProjectionStore,
        settings: ServiceSettings,
        producer: EventProducer,
        *,
        service: str,
    ) -> None:
        self.store = store
        projection = store.projection
        self.metric_name = f"{service}.{projection.name}.v{projection.version}"
        self.consumer: EventConsumer = event_consumer(
            settings,
            group=f"{service}.{projection.name}.v{projection.version}",
            topics=list(projection.topics),
            handler=store.handle,
            producer=producer,
            types=projection.types,
            start_positions=store.start_positions,
            tuning=BATCHING,
        )
        self.component = ProjectionComponent(self)

    async def wait_for(self, min_position: str | None) -> None:
        """Read-your-writes: wait (bounded) until the write at `min_position` is projected."""
        if not min_position:
            return
        position = self._parse(min_position)
        deadline = time.monotonic() + POSITION_WAIT_S
        while not await in_db_thread(self.store.engine, self.reached, position):
            if time.monotonic() > deadline:
                raise ProblemError(
                    503,
                    "The projection has not reached that position yet.",
                    headers={"Retry-After": "1"},
                )
            await asyncio.sleep(0.02)

    async def lookup(self, read: Callable[..., T], *args: Any) -> T:
        """`read(engine, *args)`; if it finds nothing, catch up with the log and read again.

        A write made a moment ago (here or in another instance) is found, without a
        `min_position`; what is missing after the catch-up does not exist.
        """
        engine = self.store.engine
        found = await in_db_thread(engine, read, engine, *args)
        if not found and await self.catch_up(CATCH_UP_S):
            found = await in_db_thread(engine, read, engine, *args)
        return found

    async def catch_up(self, timeout: float) -> bool:
        """Wait (bounded) until everything in the log up to now is projected.

        Every partition of its topics counts, not only those assigned here: instances of a
        service share the projection's database and divide the partitions, so a call reported
        to one instance a moment ago may be projected by another.
        """
        targets = await self.consumer.topic_end_offsets()
        deadline = time.monotonic() + timeout
        while True:
            stored = await in_db_thread(self.store.engine, self.store.positions, list(targets))
            if all(stored.get(tp, 0) >= end for tp, end in targets.items()):
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)

    def _parse(self, text: str) -> Position:
        try:
            position = Position.parse(text)
        except ValueError:
            raise ProblemError(
                400, "`min_position` is topic:partition:offset as a write answered."
            ) from None
        if position.topic not in self.consumer.topics:
            raise ProblemError(400, f"This read does not follow topic {position.topic!r}.")
        return position

    def reached(self, position: Position) -> bool:
        stored = self.store.positions([(position.topic, position.partition)])
        return stored.get((position.topic, position.partition), 0) > position.offset

    @property
    def lag(self) -> int:
        """Records of its topics not yet projected (its consumer's assigned partitions)."""
        return self.consumer.lag

    def status(self) -> dict[str, Any]:
        projection = self.store.projection
        return {
            "name": projection.name,
            "version": projection.version,
            "state": "live" if self.consumer.caught_up else "catching_up",
            "position": sum(self.store.positions().values()),
            "lag": self.consumer.lag,
        }


class ProjectionComponent(ConsumerComponent):
    """Creates the projection's tables (retrying like any start), then consumes."""

    def __init__(self, runner: ProjectionRunner) -> None:
        super().__init__(runner.consumer)
        self._runner = runner
        self.name = f"projection:{runner.store.key}"

    async def start(self) -> None:
        await in_db_thread(self._runner.store.engine, self._runner.store.create_tables)
        await super().start()
        PROJECTION_LAG.watch(self._runner)

    async def stop(self) -> None:
        PROJECTION_LAG.forget(self._runner)
        await super().stop()
