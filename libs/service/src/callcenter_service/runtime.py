"""The Kafka side of a service: topics, producer, consumers, started in the background.

The HTTP server answers `/livez` at once; the runtime keeps trying to reach the broker with
backoff, and `/readyz` says ready only when every component is started and caught up.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable, Sequence
from typing import Protocol

import structlog
from callcenter_events.admin import ensure_topics
from callcenter_events.broadcast import BroadcastReader
from callcenter_events.connection import KafkaConnection
from callcenter_events.consumer import EventConsumer
from callcenter_events.producer import EventProducer

from callcenter_service.directory import Principal, TenantDirectory

log = structlog.get_logger(__name__)


class Component(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def ready(self) -> bool: ...


class ProducerComponent:
    name = "producer"

    def __init__(self, producer: EventProducer) -> None:
        self.producer = producer
        self._started = False

    async def start(self) -> None:
        await self.producer.start()
        self._started = True

    async def stop(self) -> None:
        if self._started:
            await self.producer.stop()

    def ready(self) -> bool:
        return self._started


class Follower(Protocol):
    """Something that follows the log in a loop: a group consumer or a broadcast reader."""

    @property
    def caught_up(self) -> bool: ...

    async def start(self) -> None: ...

    async def run(self) -> None: ...

    async def stop(self) -> None: ...


class FollowerComponent:
    """Runs a follower's loop as a task; ready while the loop lives and has caught up."""

    def __init__(self, follower: Follower, name: str) -> None:
        self.follower = follower
        self.name = name
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.follower.start()
        self._task = asyncio.create_task(self.follower.run(), name=self.name)
        self._task.add_done_callback(_log_crash)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.follower.stop()

    def ready(self) -> bool:
        return self._task is not None and not self._task.done() and self.follower.caught_up


class ConsumerComponent(FollowerComponent):
    def __init__(self, consumer: EventConsumer) -> None:
        super().__init__(consumer, f"consumer:{consumer.group_id}")
        self.consumer = consumer


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("consumer_crashed", task=task.get_name(), error=repr(task.exception()))


class Runtime:
    def __init__(
        self,
        *,
        bootstrap_servers: str,
        topic_prefix: str,
        replication_factor: int,
        components: Sequence[Component],
        create_topics: bool = True,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._prefix = topic_prefix
        self._replication = replication_factor
        self._create_topics = create_topics
        self.components = list(components)
        self._started: list[Component] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._start_all(), name="runtime-start")

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for component in reversed(self._started):
            try:
                await component.stop()
            except Exception:
                log.exception("component_stop_failed", component=component.name)
        self._started.clear()

    def ready(self) -> bool:
        """Every component started and ready (cheap: checked on every write request)."""
        return len(self._started) == len(self.components) and all(
            c.ready() for c in self.components
        )

    def readiness(self) -> dict[str, bool]:
        started = {component.name for component in self._started}
        return {c.name: c.name in started and c.ready() for c in self.components}

    async def _start_all(self) -> None:
        log.info(
            "kafka_connection", bootstrap_servers=self._bootstrap, **KafkaConnection().describe()
        )
        if self._create_topics:
            await _retrying("topics", self._ensure_topics)
        else:
            log.info("topics_not_created", reason="CALLCENTER_CREATE_TOPICS=false")
        for component in self.components:
            await _retrying(component.name, component.start)
            self._started.append(component)
        gc.freeze()  # what start-up built lives on: later collections need not scan it
        log.info("runtime_started", components=[c.name for c in self.components])

    async def _ensure_topics(self) -> None:
        await ensure_topics(
            self._bootstrap, prefix=self._prefix, replication_factor=self._replication
        )


async def _retrying(what: str, action: object) -> None:
    delay = 0.2
    while True:
        try:
            await action()  # type: ignore[operator]
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("start_retry", what=what, error=repr(exc), delay_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


class DirectoryComponent(FollowerComponent):
    """The tenant directory, fed by reading the tenants topic in full, in every instance."""

    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        self.directory = TenantDirectory()
        self._reader = BroadcastReader(bootstrap_servers, topic, self.directory.apply)
        super().__init__(self._reader, "tenants")

    def principal_for(self, token: str) -> Principal | None:
        return self.directory.principal_for(token)

    async def catch_up(self, timeout: float) -> bool:
        """Read the tenants topic up to its current end (False if not started or too slow)."""
        if not self.ready():
            return False
        return await self._reader.catch_up(timeout)


class StoreComponent:
    """A service's own database: its tables are created at start (retried like any start)."""

    def __init__(self, name: str, create_tables: Callable[[], None]) -> None:
        self.name = name
        self._create_tables = create_tables
        self._ready = False

    async def start(self) -> None:
        await asyncio.to_thread(self._create_tables)
        self._ready = True

    async def stop(self) -> None:
        self._ready = False

    def ready(self) -> bool:
        return self._ready
