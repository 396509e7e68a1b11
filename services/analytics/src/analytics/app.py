"""Analytics: projections of the whole call history for analysts, and the query API."""

from __future__ import annotations

from callcenter_events.store import ProjectionStore, make_engine, make_sqlite_folder
from callcenter_service import create_service_app
from callcenter_service.projection import ProjectionRunner
from callcenter_service.runtime import Component, ProducerComponent
from callcenter_service.wiring import event_producer
from fastapi import FastAPI

from analytics.api import router
from analytics.projections import PROJECTIONS
from analytics.settings import AnalyticsSettings


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    settings = settings or AnalyticsSettings()
    make_sqlite_folder(settings.database_url)
    engine = make_engine(settings.database_url)
    producer = event_producer(settings, "analytics")
    runners = {
        p.name: ProjectionRunner(
            ProjectionStore(engine, p), settings, producer, service="analytics"
        )
        for p in PROJECTIONS
    }
    components: list[Component] = [ProducerComponent(producer)]
    components += [runner.component for runner in runners.values()]
    app = create_service_app(
        name="analytics",
        description="KPI projections of the call history, for analysts.",
        settings=settings,
        components=components,
        routers=[router],
        receives=frozenset().union(*(p.types for p in PROJECTIONS)),
    )
    app.state.runners = runners
    return app
