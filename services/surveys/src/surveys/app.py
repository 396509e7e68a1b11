"""Surveys: surveys, customers with consent, campaigns (for now: follows the call events)."""

from __future__ import annotations

from callcenter_events.consumer import BATCHING
from callcenter_events.registry import REGISTRY
from callcenter_events.topics import CALLS, ROUTING
from callcenter_service import create_service_app
from callcenter_service.runtime import ConsumerComponent, ProducerComponent
from callcenter_service.wiring import event_consumer, event_producer
from fastapi import FastAPI

from surveys.handlers import CallFollower
from surveys.settings import SurveysSettings


def create_app(settings: SurveysSettings | None = None) -> FastAPI:
    settings = settings or SurveysSettings()
    producer = event_producer(settings, "surveys")
    follower = CallFollower()
    consumer = event_consumer(
        settings,
        group="surveys",
        topics=[CALLS, ROUTING],
        handler=follower.handle,
        producer=producer,
        tuning=BATCHING,
    )
    app = create_service_app(
        name="surveys",
        description="Surveys, customers with consent, campaigns and responses.",
        settings=settings,
        components=[ProducerComponent(producer), ConsumerComponent(consumer)],
        routers=[],
        receives=frozenset(s.event_type for s in REGISTRY.specs() if s.topic in (CALLS, ROUTING)),
    )
    app.state.follower = follower
    return app
