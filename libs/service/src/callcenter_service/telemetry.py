"""The OpenTelemetry exporter, on when `CALLCENTER_OTEL_ENABLED` says so.

Spans go over OTLP/HTTP (protobuf) to `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; the SDK reads them) in batches, named by `OTEL_SERVICE_NAME`
(default: the service's name). Off, the trace context still travels in the Kafka headers; nothing
is recorded. The exporter is flushed and shut down when the service stops, after its consumers.
"""

from __future__ import annotations

import asyncio
import os

import structlog
from callcenter_events.tracing import use_tracer_provider
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from callcenter_service.settings import ServiceSettings

log = structlog.get_logger(__name__)


class TracingComponent:
    """Installs the exporting tracer provider at creation; flushes it at stop (after the rest)."""

    name = "tracing"

    def __init__(self, settings: ServiceSettings, service: str) -> None:
        self.provider: TracerProvider | None = None
        if settings.otel_enabled:
            service_name = os.environ.get("OTEL_SERVICE_NAME") or service
            self.provider = exporting_provider(service_name)
            use_tracer_provider(self.provider, recording=True)
            log.info("tracing_exporter_on", service_name=service_name)

    async def start(self) -> None:
        """Nothing to wait for: spans are exported in the background."""

    async def stop(self) -> None:
        if self.provider is not None:
            await asyncio.to_thread(self.provider.shutdown)  # flushes what is pending

    def ready(self) -> bool:
        return True


def exporting_provider(service_name: str) -> TracerProvider:
    """A tracer provider sending batches of spans over OTLP/HTTP (the SDK's sampler settings)."""
    # imported only when exporting: protobuf and an HTTP client are not needed otherwise
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider
