"""Routing: matches waiting calls to available agents, and records why."""

from __future__ import annotations

from callcenter_events.consumer import EventConsumer
from callcenter_events.store import ProjectionStore, make_engine, make_sqlite_folder
from callcenter_events.topics import CALLS, ROUTING_OWNER
from callcenter_service import create_service_app
from callcenter_service.ownership import OwnerElection
from callcenter_service.projection import ProjectionRunner
from callcenter_service.runtime import ProducerComponent, StoreComponent
from callcenter_service.wiring import event_consumer, event_producer
from fastapi import FastAPI

from routing.agents_api import router as agents_router
from routing.core import RoutingCore
from routing.decision_store import DecisionProjection
from routing.handlers import TYPES, RoutingHandlers
from routing.metrics import QUEUE_LENGTHS
from routing.owner import OwnerComponent
from routing.policies_api import router as policies_router
from routing.queues_api import router as queues_router
from routing.replay import FactReader
from routing.settings import RoutingSettings
from routing.snapshots import SnapshotStore


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    producer = event_producer(settings, "routing")
    reader = FactReader(settings.kafka_bootstrap_servers, settings.topic_prefix)
    make_sqlite_folder(settings.database_url)
    database = make_engine(settings.database_url)
    snapshots = SnapshotStore(database)
    core = RoutingCore(
        producer,
        reader,
        heartbeat_timeout_s=settings.heartbeat_timeout_s,
        snapshots=snapshots,
        snapshot_every_facts=settings.snapshot_every_facts,
        snapshot_check_s=settings.snapshot_check_s,
    )
    decisions = ProjectionRunner(
        ProjectionStore(database, DecisionProjection()),
        settings,
        producer,
        service="routing",
    )
    handlers = RoutingHandlers(core, tenants=lambda: app.state.directory.directory)

    def calls_consumer() -> EventConsumer:
        return event_consumer(
            settings,
            group="routing",
            topics=[CALLS],
            handler=handlers.handle,
            producer=producer,
            types=TYPES,
        )

    def election(owner: OwnerComponent) -> OwnerElection:
        return OwnerElection(
            settings.kafka_bootstrap_servers,
            group_id=f"{settings.topic_prefix}routing.owner",
            topic=ROUTING_OWNER.name(settings.topic_prefix),
            on_elected=owner.elected,
            on_deposed=owner.deposed,
            on_paused=owner.paused,
        )

    app = create_service_app(
        name="routing",
        description="Skill-based routing of waiting calls to agents, every decision explained.",
        settings=settings,
        components=[
            StoreComponent("snapshots", snapshots.create_tables),
            ProducerComponent(producer),
            decisions.component,
            OwnerComponent(core, producer, calls_consumer, election),
        ],
        routers=[agents_router, policies_router, queues_router],
        receives=TYPES | DecisionProjection.types,
    )
    app.state.core = core
    QUEUE_LENGTHS.watch(core)
    app.state.decisions = decisions
    return app
