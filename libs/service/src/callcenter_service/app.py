"""The app factory every service uses, and the entry point that serves it with uvicorn."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

import uvicorn
from callcenter_events.asyncapi import asyncapi_document
from callcenter_events.registry import REGISTRY
from callcenter_events.topics import TENANTS
from fastapi import APIRouter, FastAPI

from callcenter_service import health, whoami
from callcenter_service.correlation import CorrelationMiddleware
from callcenter_service.limits import BodySizeLimit, RateLimiter
from callcenter_service.logs import configure_logging
from callcenter_service.problems import install_problem_handlers
from callcenter_service.runtime import Component, DirectoryComponent, Runtime
from callcenter_service.settings import ServiceSettings
from callcenter_service.telemetry import TracingComponent


def create_service_app(
    *,
    name: str,
    description: str,
    settings: ServiceSettings,
    components: Sequence[Component],
    routers: Sequence[APIRouter],
    receives: frozenset[str] = frozenset(),
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """The service's app; `body_limits` lifts the body-size limit for paths that stream."""
    configure_logging(name, settings.log_level)
    tracing = TracingComponent(settings, name)
    directory = DirectoryComponent(
        settings.kafka_bootstrap_servers, TENANTS.name(settings.topic_prefix)
    )
    runtime = Runtime(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic_prefix=settings.topic_prefix,
        replication_factor=settings.topic_replication_factor,
        components=[directory, *components],
        create_topics=settings.create_topics,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            await tracing.stop()  # the spans of the last work flushed

    app = FastAPI(
        title=f"Call center {name}",
        description=description,
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.directory = directory
    app.state.rate_limiter = RateLimiter()
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, per_path=body_limits)
    app.add_middleware(CorrelationMiddleware)
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(whoami.router)
    for router in routers:
        app.include_router(router)
    document = asyncapi_document(
        title=f"Call center {name} events",
        sends=[s.event_type for s in REGISTRY.specs() if s.owner == name],
        receives=receives,
    )

    @app.get(
        "/asyncapi.json", tags=["operations"], summary="The events this service sends and reads"
    )
    async def asyncapi() -> dict[str, Any]:
        return document

    return app


UVICORN_OPTIONS: dict[str, Any] = {
    "log_config": None,
    "access_log": False,
    "timeout_graceful_shutdown": 10,
    "loop": "uvloop",
    "http": "httptools",
}
"""How every service is served (and the benchmark's baseline with it)."""


def serve(factory: Callable[[], FastAPI], settings: ServiceSettings) -> None:
    """Run a service; SIGTERM lets requests in flight finish, then stops the Kafka clients."""
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(factory, factory=True, host=settings.host, port=settings.port, **UVICORN_OPTIONS)


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    """SIGTERM when uvicorn does not handle it: the process exits 0, a clean stop.

    uvicorn re-raises the signal it caught once its graceful shutdown is done, to this handler
    (the one it found); left at the default, the process would end killed by SIGTERM (-15).
    """
    raise SystemExit(0)
