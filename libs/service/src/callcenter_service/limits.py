"""Limits that keep one client from hurting the others: body size and request rate."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callcenter_service.problems import PROBLEM_JSON


class BodySizeLimit:
    """Pure ASGI: 413 (problem+json) for a body over `max_bytes`, declared or streamed.

    `per_path` gives paths that read their body as a stream (an import) a limit of their own.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, per_path: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = dict(per_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.max_bytes)
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        seen = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal seen, refused
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit and not refused:
                refused = True
                await self._refuse(scope, send, limit)
                return {"type": "http.disconnect"}  # the app stops reading and gives up
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        body = orjson.dumps(
            {
                "type": "about:blank",
                "title": "Content Too Large",
                "status": 413,
                "detail": f"The request body may be at most {limit} bytes.",
                "instance": scope["path"],
            }
        )
        headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per API key: `rate` requests per second, bursts of up to 2 s worth."""

    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}

    def wait_needed(self, key: str, rate: float, now: float | None = None) -> float:
        """0 if a request may pass now (and takes its token), else the seconds to wait."""
        now = time.monotonic() if now is None else now
        capacity = 2 * rate
        bucket = self._buckets.setdefault(key, _Bucket(capacity, now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
