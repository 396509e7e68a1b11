"""Routing: matches waiting calls to available agents, and records why."""

from __future__ import annotations

import asyncio
import contextlib

from callcenter_events.store import ProjectionStore, make_engine, make_sqlite_folder
from callcenter_events.topics import CALLS
from callcenter_service import create_service_app
from callcenter_service.projection import ProjectionRunner
from callcenter_service.runtime import ConsumerComponent, ProducerComponent
from callcenter_service.wiring import event_consumer, event_producer
from fastapi import FastAPI

from routing.agents_api import router as agents_router
from routing.core import RoutingCore
from routing.decision_store import DecisionProjection
from routing.handlers import TYPES, RoutingHandlers
from routing.policies_api import router as policies_router
from routing.queues_api import router as queues_router
from routing.replay import FactReader
from routing.settings import RoutingSettings


class OwnerComponent:
    """Routing's state: rebuilt from the log at start, then kept live (timers included)."""

    name = "routing-state"

    def __init__(self, core: RoutingCore) -> None:
        self.core = core
        self._timers: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.core.rebuild()
        self._timers = asyncio.create_task(self.core.run_timers(), name="routing-timers")

    async def stop(self) -> None:
        if self._timers is not None:
            self._timers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timers

    def ready(self) -> bool:
        return self._timers is not None and not self._timers.done() and not self.core.stale


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    producer = event_producer(settings, "routing")
    reader = FactReader(settings.kafka_bootstrap_servers, settings.topic_prefix)
    core = RoutingCore(producer, reader, heartbeat_timeout_s=settings.heartbeat_timeout_s)
    make_sqlite_folder(settings.database_url)
    decisions = ProjectionRunner(
        ProjectionStore(make_engine(settings.database_url), DecisionProjection()),
        settings,
        producer,
        service="routing",
    )
    handlers = RoutingHandlers(core, tenants=lambda: app.state.directory.directory)
    calls = event_consumer(
        settings,
        group="routing",
        topics=[CALLS],
        handler=handlers.handle,
        producer=producer,
        types=TYPES,
    )
    app = create_service_app(
        name="routing",
        description="Skill-based routing of waiting calls to agents, every decision explained.",
        settings=settings,
        components=[
            ProducerComponent(producer),
            OwnerComponent(core),
            decisions.component,
            ConsumerComponent(calls),
        ],
        routers=[agents_router, policies_router, queues_router],
        receives=TYPES | DecisionProjection.types,
    )
    app.state.core = core
    app.state.decisions = decisions
    return app
