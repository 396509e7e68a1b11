"""Intake: client companies and the telephony report calls here."""

from __future__ import annotations

from callcenter_service import create_service_app
from callcenter_service.runtime import ProducerComponent
from callcenter_service.wiring import event_producer
from fastapi import FastAPI

from intake.api import router
from intake.settings import IntakeSettings
from intake.tenants_api import router as tenants_router


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    producer = event_producer(settings, "intake")
    app = create_service_app(
        name="intake",
        description="Calls reported by client companies and the telephony.",
        settings=settings,
        components=[ProducerComponent(producer)],
        routers=[router, tenants_router],
    )
    app.state.producer = producer
    return app
