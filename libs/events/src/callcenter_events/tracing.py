"""W3C trace context on Kafka records (`traceparent`, `tracestate` headers), with OpenTelemetry.

Every event written carries a `traceparent`: the context of the event that caused it (the span
its consumer handles it in), else the current context (the HTTP request's, from its own
`traceparent` header), else a new trace (one per request). The tracer provider is the SDK's, so
spans get valid ids even when nothing exports them; until a service installs its own
(`use_tracer_provider`, with an exporter), nothing is sampled and a span costs an id and an object.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Final

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT: Final = "traceparent"
TRACESTATE: Final = "tracestate"
TRACE_HEADERS: Final = frozenset({TRACEPARENT, TRACESTATE})
PROPAGATOR: Final = TraceContextTextMapPropagator()
INSTRUMENTATION: Final = "callcenter"
_IDS: Final = RandomIdGenerator()


class _Tracing:
    """The tracer in use, and whether its spans are recorded (an exporter is on)."""

    def __init__(self) -> None:
        self.tracer: Tracer = TracerProvider(sampler=ALWAYS_OFF).get_tracer(INSTRUMENTATION)
        self.recording = False


_TRACING = _Tracing()


def use_tracer_provider(provider: TracerProvider, *, recording: bool) -> None:
    """Spans from now on come from `provider`; `recording`: someone exports them."""
    _TRACING.tracer = provider.get_tracer(INSTRUMENTATION)
    _TRACING.recording = recording


def tracer() -> Tracer:
    return _TRACING.tracer


def recording() -> bool:
    """True when spans are exported: worth the attributes and a span per handled event."""
    return _TRACING.recording


def remote_context(traceparent: str | None, tracestate: str | None = None) -> Context | None:
    """The context a `traceparent` (and `tracestate`) names; None when absent or invalid."""
    if not traceparent:
        return None
    carrier = {TRACEPARENT: traceparent}
    if tracestate:
        carrier[TRACESTATE] = tracestate
    found = PROPAGATOR.extract(carrier, context=Context())
    if not trace.get_current_span(found).get_span_context().is_valid:
        return None
    return found


def start_span(name: str, parent: Context | None, kind: SpanKind) -> Span:
    """A span under `parent` (a new trace when None): valid ids whether recorded or not."""
    return _TRACING.tracer.start_span(name, context=parent or Context(), kind=kind)


def headers_of(context: Context) -> list[tuple[str, bytes]]:
    """The `traceparent` (and `tracestate`) headers of `context`'s span."""
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier, context=context)
    return [(name, value.encode()) for name, value in carrier.items()]


def current_context() -> Context | None:
    """The current context if it holds a valid span (a request's, an event handling's)."""
    context = otel_context.get_current()
    if trace.get_current_span(context).get_span_context().is_valid:
        return context
    return None


class _NewTrace:
    """The trace of a unit of work (a request) that came without one, made on first need."""

    __slots__ = ("headers",)

    def __init__(self) -> None:
        self.headers: list[tuple[str, bytes]] | None = None


_new_trace: ContextVar[_NewTrace | None] = ContextVar("new_trace", default=None)


def one_trace_per_work() -> Token[_NewTrace | None]:
    """From now on (until `end_of_work`), events written outside a span share one new trace."""
    return _new_trace.set(_NewTrace())


def end_of_work(token: Token[_NewTrace | None]) -> None:
    _new_trace.reset(token)


def new_trace_headers(name: str) -> list[tuple[str, bytes]]:
    """The headers of a new trace (for an event nothing traced caused): the work's, if any."""
    work = _new_trace.get()
    if work is None:
        return _root_headers(name)
    if work.headers is None:
        work.headers = _root_headers(name)
    return work.headers


def _root_headers(name: str) -> list[tuple[str, bytes]]:
    if not _TRACING.recording:  # the ids alone: no span object to make and end
        trace_id, span_id = _IDS.generate_trace_id(), _IDS.generate_span_id()
        return [(TRACEPARENT, f"00-{trace_id:032x}-{span_id:016x}-00".encode())]
    span = start_span(name, None, SpanKind.PRODUCER)
    span.end()
    return headers_of(trace.set_span_in_context(span))
