"""Intake: client companies and the telephony report calls here."""

from __future__ import annotations

from callcenter_events.store import ProjectionStore, make_engine, make_sqlite_folder
from callcenter_events.topics import SURVEYS
from callcenter_service import create_service_app
from callcenter_service.idempotency import IdempotencyStore
from callcenter_service.privacy import VaultComponent, lookup_secret, shredder
from callcenter_service.projection import ProjectionRunner
from callcenter_service.runtime import ConsumerComponent, ProducerComponent, StoreComponent
from callcenter_service.wiring import event_consumer, event_producer
from fastapi import FastAPI

from intake.api import router
from intake.callstore import CallProjection, CallStore
from intake.erasure_api import router as erasure_router
from intake.lifecycle_api import router as lifecycle_router
from intake.outbound import TYPES as OUTBOUND_TYPES
from intake.outbound import OutboundDialing
from intake.settings import IntakeSettings
from intake.tenants_api import router as tenants_router


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    producer = event_producer(settings, "intake")
    make_sqlite_folder(settings.database_url)
    engine = make_engine(settings.database_url)
    idempotency = IdempotencyStore(engine, lookup_secret(settings), table="intake_idempotency")
    calls = ProjectionRunner(
        ProjectionStore(engine, CallProjection()), settings, producer, service="intake"
    )
    keys = VaultComponent(settings, producer)
    call_store = CallStore(engine)
    outbound = event_consumer(
        settings,
        group="intake.outbound",
        topics=[SURVEYS],
        handler=OutboundDialing(call_store, producer, keys.vault).handle,
        producer=producer,
        types=OUTBOUND_TYPES,
    )
    app = create_service_app(
        name="intake",
        description="Calls reported by client companies and the telephony.",
        settings=settings,
        components=[
            StoreComponent("store", idempotency.create_tables),
            ProducerComponent(producer),
            keys,
            calls.component,
            ConsumerComponent(outbound),
            shredder(settings, producer, keys.vault, service="intake"),
        ],
        routers=[router, lifecycle_router, tenants_router, erasure_router],
        receives=CallProjection.types | OUTBOUND_TYPES,
    )
    app.state.producer = producer
    app.state.vault = keys.vault
    app.state.idempotency = idempotency
    app.state.calls = call_store
    app.state.call_projection = calls
    return app
