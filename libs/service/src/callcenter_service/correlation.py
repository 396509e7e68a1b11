"""Correlation ids: taken from `X-Correlation-ID` (or made), bound to logs, echoed back.

The request's W3C `traceparent` becomes the current trace context (see `http_tracing`).
"""

from __future__ import annotations

import logging
import time
import uuid

import structlog
from callcenter_events.handling import correlation_id
from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callcenter_service import http_tracing

HEADER = "x-correlation-id"
TRACEPARENT = b"traceparent"
TRACESTATE = b"tracestate"
__all__ = ["CorrelationMiddleware", "correlation_id", "current_correlation_id"]
REQUEST_SECONDS = Histogram(
    "callcenter_http_request_seconds",
    "HTTP request duration",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
SLOW_REQUEST_S = 1.0
log = structlog.get_logger("access")
_stdlib_log = logging.getLogger("access")


def current_correlation_id() -> str:
    return correlation_id.get() or str(uuid.uuid4())


def add_correlation_id(
    _logger: object, _name: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """structlog processor: the request's (or event's) correlation id in every log line."""
    cid = correlation_id.get()
    if cid:
        event_dict.setdefault("correlation_id", cid)
    return event_dict


class CorrelationMiddleware:
    """Pure ASGI middleware: cheap enough for the hot path of intake."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = _header(scope, HEADER.encode()) or str(uuid.uuid4())
        token = correlation_id.set(cid)
        traced = http_tracing.enter(
            scope["method"], _header(scope, TRACEPARENT), _header(scope, TRACESTATE, 512)
        )
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER.encode(), cid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = self._observe(scope, status, time.perf_counter() - started)
            http_tracing.leave(traced, scope["method"], route, status)
            correlation_id.reset(token)

    @staticmethod
    def _observe(scope: Scope, status: int, seconds: float) -> str:
        """Every request feeds the histogram; the log gets the failed and the slow ones.

        A log line per successful request would cost intake a fifth of its throughput; the
        histogram answers "how many, how fast", the log answers "what went wrong" (and, at
        DEBUG, every request). Answers the route.
        """
        route: str = getattr(scope.get("route"), "path", "unmatched")
        REQUEST_SECONDS.labels(scope["method"], route, str(status)).observe(seconds)
        failed_or_slow = status >= 400 or seconds >= SLOW_REQUEST_S
        if failed_or_slow or _stdlib_log.isEnabledFor(logging.DEBUG):
            (log.info if failed_or_slow else log.debug)(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                ms=round(seconds * 1000, 2),
            )
        return route


def _header(scope: Scope, name: bytes, limit: int = 128) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            text: str = value.decode("latin-1")[:limit]
            return text
    return None
