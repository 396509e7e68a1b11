"""The W3C trace context of an HTTP request: what the events the request writes carry.

The request's `traceparent` (and `tracestate`) header, if any, becomes the current context, so
the producer writes it into every event of the request. When spans are exported, the request
also gets a server span of its own (a child of that header, or a new trace). Without exporter and
without header, the events the request writes share one new trace, made when the first is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from callcenter_events import tracing
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind


@dataclass(slots=True)
class RequestTrace:
    token: object
    span: Span | None
    new_trace: bool = False


def enter(method: str, traceparent: str | None, tracestate: str | None) -> RequestTrace:
    """Make the request's trace context current."""
    parent = tracing.remote_context(traceparent, tracestate) if traceparent else None
    if tracing.recording():
        span = tracing.start_span(method, parent, SpanKind.SERVER)
        return RequestTrace(otel_context.attach(trace.set_span_in_context(span)), span)
    if parent is None:
        return RequestTrace(tracing.one_trace_per_work(), None, new_trace=True)
    return RequestTrace(otel_context.attach(parent), None)


def leave(entered: RequestTrace, method: str, route: str, status: int) -> None:
    """End the request's span (if recorded) and restore the context before it."""
    span = entered.span
    if span is not None:
        span.update_name(f"{method} {route}")
        span.set_attributes(
            {
                "http.request.method": method,
                "http.route": route,
                "http.response.status_code": status,
            }
        )
        if status >= 500:
            span.set_status(trace.StatusCode.ERROR)
        span.end()
    if entered.new_trace:
        tracing.end_of_work(entered.token)  # type: ignore[arg-type]
    else:
        otel_context.detach(entered.token)  # type: ignore[arg-type]
