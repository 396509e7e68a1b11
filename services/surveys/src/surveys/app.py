"""Surveys: customers with consent, their erasure; surveys and campaigns (following calls)."""

from __future__ import annotations

from callcenter_events.consumer import BATCHING
from callcenter_events.registry import REGISTRY
from callcenter_events.store import ProjectionStore, make_engine, make_sqlite_folder
from callcenter_events.topics import CALLS, ROUTING
from callcenter_service import create_service_app
from callcenter_service.idempotency import IdempotencyStore
from callcenter_service.privacy import VaultComponent, lookup_secret, shredder
from callcenter_service.projection import ProjectionRunner
from callcenter_service.runtime import ConsumerComponent, ProducerComponent, StoreComponent
from callcenter_service.wiring import event_consumer, event_producer
from fastapi import FastAPI

from surveys.campaigns_api import router as campaigns_router
from surveys.campaignstore import CampaignProjection
from surveys.customers_api import router as customers_router
from surveys.customerstore import CustomerProjection
from surveys.dialer import Dialer, DialerComponent
from surveys.handlers import CallFollower
from surveys.import_api import IMPORT_PATH
from surveys.import_api import router as import_router
from surveys.invitations_api import router as invitations_router
from surveys.settings import SurveysSettings
from surveys.surveys_api import router as surveys_router
from surveys.surveystore import SurveyProjection


def create_app(settings: SurveysSettings | None = None) -> FastAPI:
    settings = settings or SurveysSettings()
    producer = event_producer(settings, "surveys")
    make_sqlite_folder(settings.database_url)
    engine = make_engine(settings.database_url)
    idempotency = IdempotencyStore(engine, lookup_secret(settings), table="surveys_idempotency")
    keys = VaultComponent(settings, producer)
    customers = ProjectionRunner(
        ProjectionStore(engine, CustomerProjection()), settings, producer, service="surveys"
    )
    surveys = ProjectionRunner(
        ProjectionStore(engine, SurveyProjection()), settings, producer, service="surveys"
    )
    campaigns = ProjectionRunner(
        ProjectionStore(engine, CampaignProjection()), settings, producer, service="surveys"
    )
    dialer = DialerComponent(Dialer(campaigns, producer), settings)
    follower = CallFollower(engine, lambda: app.state.directory.directory, producer)
    calls = event_consumer(
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
        components=[
            StoreComponent("store", idempotency.create_tables),
            ProducerComponent(producer),
            keys,
            customers.component,
            surveys.component,
            campaigns.component,
            StoreComponent("follower", follower.create_tables),
            ConsumerComponent(calls),
            dialer,
            shredder(settings, producer, keys.vault, service="surveys"),
        ],
        routers=[
            customers_router,
            import_router,
            surveys_router,
            campaigns_router,
            invitations_router,
        ],
        receives=CustomerProjection.types
        | SurveyProjection.types
        | CampaignProjection.types
        | frozenset(s.event_type for s in REGISTRY.specs() if s.topic in (CALLS, ROUTING)),
        body_limits={IMPORT_PATH: settings.max_import_bytes},
    )
    app.state.producer = producer
    app.state.idempotency = idempotency
    app.state.vault = keys.vault
    app.state.customers = customers
    app.state.surveys = surveys
    app.state.campaigns = campaigns
    app.state.dialer = dialer
    app.state.follower = follower
    return app
