"""While a consumer's handler runs: the flow of the events it handles, for logs and traces.

- The correlation id is bound (the `correlation_id` context variable every log line carries)
  when the batch belongs to one flow, as a low-latency consumer's batches of one event do.
- The events the handler publishes find their cause by `causation_id`: they carry its
  correlation id (the handler passes it on) and a `traceparent` of the span the cause is handled
  in, a child of the cause's own `traceparent`. That span is made only when needed, unless
  spans are exported: then every handled event gets one.
- Once handled, the events are counted by type (`callcenter_events_handled_total`) and each
  gets an `event_handled` line at DEBUG (type, position, ids).
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind
from prometheus_client import Counter as MetricCounter

from callcenter_events import tracing
from callcenter_events.batch import Batch, BatchHandler
from callcenter_events.envelope import Envelope

correlation_id: ContextVar[str] = ContextVar("correlation_id", default="")
"""The flow (HTTP request or handled events) the current work belongs to; "" when none."""
_current: ContextVar[Handling | None] = ContextVar("handling", default=None)
EVENTS_HANDLED = MetricCounter(
    "callcenter_events_handled_total", "Events handed to a handler that returned", ["type"]
)
log = structlog.get_logger(__name__)
_stdlib_log = logging.getLogger(__name__)


class Handling:
    """The spans of the events of one batch, made on first need (or all, when exported)."""

    def __init__(self, envelopes: Sequence[Envelope]) -> None:
        self._envelopes = envelopes
        self._by_id: dict[str, Envelope] | None = None
        self._spans: dict[str, Span] = {}
        if tracing.recording():
            for envelope in envelopes:
                self._span(envelope)

    def context_of(self, cause_id: str) -> Context | None:
        """The context an event caused by `cause_id` is written in (None: not in this batch)."""
        span = self._spans.get(cause_id)
        if span is None:
            if self._by_id is None:
                self._by_id = {envelope.id: envelope for envelope in self._envelopes}
            cause = self._by_id.get(cause_id)
            if cause is None:
                return None
            span = self._span(cause)
        return trace.set_span_in_context(span)

    def _span(self, envelope: Envelope) -> Span:
        parent = tracing.remote_context(envelope.traceparent, envelope.tracestate)
        span = tracing.start_span(f"handle {envelope.type}", parent, SpanKind.CONSUMER)
        if span.is_recording():
            span.set_attributes(_attributes(envelope))
        self._spans[envelope.id] = span
        return span

    def end(self) -> None:
        for span in self._spans.values():
            span.end()


def current_handling() -> Handling | None:
    return _current.get()


async def handle(batch: Batch, handler: BatchHandler) -> None:
    """Run `handler` on `batch` inside its handling scope; then log each event at DEBUG."""
    scope = Handling(batch.envelopes)
    token = _current.set(scope)
    flow = _one_flow(batch.envelopes)
    flow_token = correlation_id.set(flow) if flow else None
    try:
        await handler(batch)
    finally:
        if flow_token is not None:
            correlation_id.reset(flow_token)
        _current.reset(token)
        scope.end()
    if batch.envelopes:
        _count(batch.envelopes)
        if _stdlib_log.isEnabledFor(logging.DEBUG):
            _log_handled(batch.envelopes)


def _count(envelopes: Sequence[Envelope]) -> None:
    for event_type, count in Counter(envelope.type for envelope in envelopes).items():
        _handled_of(event_type).inc(count)


@functools.cache
def _handled_of(event_type: str) -> Any:
    """The counter of one type (looking labels up costs more than counting)."""
    return EVENTS_HANDLED.labels(event_type)


def _one_flow(envelopes: Sequence[Envelope]) -> str:
    """The correlation id the events share ("" when none or several)."""
    if not envelopes:
        return ""
    first = envelopes[0].correlation_id
    return first if all(e.correlation_id == first for e in envelopes) else ""


def _log_handled(envelopes: Sequence[Envelope]) -> None:
    for envelope in envelopes:
        position = envelope.position
        log.debug(
            "event_handled",
            type=envelope.type,
            event_id=envelope.id,
            topic=position.topic if position else None,
            partition=position.partition if position else None,
            offset=position.offset if position else None,
            correlation_id=envelope.correlation_id,
            causation_id=envelope.causation_id,
        )


def _attributes(envelope: Envelope) -> dict[str, str | int]:
    attributes: dict[str, str | int] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "cloudevents.event_id": envelope.id,
        "cloudevents.event_type": envelope.type,
        "callcenter.correlation_id": envelope.correlation_id,
        "callcenter.tenant_id": envelope.tenant_id,
    }
    if envelope.position is not None:
        attributes["messaging.destination.name"] = envelope.position.topic
        attributes["messaging.destination.partition.id"] = str(envelope.position.partition)
        attributes["messaging.kafka.offset"] = envelope.position.offset
    return attributes


def trace_headers(envelope: Envelope) -> list[tuple[str, bytes]]:
    """The trace headers of an event about to be written (see the module docstring)."""
    scope = _current.get()
    if scope is not None and envelope.causation_id:
        caused_in = scope.context_of(envelope.causation_id)
        if caused_in is not None:
            return tracing.headers_of(caused_in)
    current = tracing.current_context()
    if current is not None:
        return tracing.headers_of(current)
    return tracing.new_trace_headers(f"publish {envelope.type}")
