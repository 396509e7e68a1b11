"""Analytics: projections of the whole call history for analysts, and the query API."""

from __future__ import annotations

from collections.abc import Sequence

from callcenter_events.store import make_engine, make_sqlite_folder
from callcenter_service import create_service_app
from callcenter_service.runtime import Component, ProducerComponent
from callcenter_service.wiring import event_producer
from fastapi import APIRouter, FastAPI

from analytics import (
    agents_api,
    calls_api,
    dashboard_api,
    projections_api,
    realtime_api,
    survey_catalog_api,
    surveys_api,
    tenants_api,
)
from analytics.projection import AnalyticsProjection
from analytics.registry import PROJECTIONS
from analytics.settings import AnalyticsSettings
from analytics.supervisor import ProjectionSupervisor

ROUTERS: tuple[APIRouter, ...] = (
    calls_api.router,
    agents_api.router,
    survey_catalog_api.router,
    surveys_api.router,
    realtime_api.router,
    tenants_api.router,
    projections_api.router,
    dashboard_api.router,
)


def create_app(
    settings: AnalyticsSettings | None = None,
    projections: Sequence[AnalyticsProjection] = PROJECTIONS,
) -> FastAPI:
    settings = settings or AnalyticsSettings()
    make_sqlite_folder(settings.database_url)
    engine = make_engine(settings.database_url)
    producer = event_producer(settings, "analytics")
    supervisor = ProjectionSupervisor(
        engine, settings, producer, projections, poll_s=settings.builds_poll_s
    )
    components: list[Component] = [ProducerComponent(producer), supervisor]
    app = create_service_app(
        name="analytics",
        description="KPI projections of the call history, for analysts.",
        settings=settings,
        components=components,
        routers=list(ROUTERS),
        receives=frozenset().union(*(p.types for p in projections)),
    )
    app.state.serving = supervisor
    return app
