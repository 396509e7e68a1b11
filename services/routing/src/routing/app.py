"""Routing: matches waiting calls to available agents (for now: queues every received call)."""

from __future__ import annotations

from callcenter_events.topics import CALLS
from callcenter_service import create_service_app
from callcenter_service.runtime import ConsumerComponent, ProducerComponent
from callcenter_service.wiring import event_consumer, event_producer
from fastapi import FastAPI

from routing.handlers import TYPES, RoutingHandlers
from routing.settings import RoutingSettings


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    producer = event_producer(settings, "routing")
    consumer = event_consumer(
        settings,
        group="routing",
        topics=[CALLS],
        handler=RoutingHandlers(producer).handle,
        producer=producer,
        types=TYPES,
    )
    return create_service_app(
        name="routing",
        description="Skill-based routing of waiting calls to agents.",
        settings=settings,
        components=[ProducerComponent(producer), ConsumerComponent(consumer)],
        routers=[],
        receives=TYPES,
    )
