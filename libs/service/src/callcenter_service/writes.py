"""A creating POST run under its Idempotency-Key: the first answer is the answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from callcenter_service.directory import Principal
from callcenter_service.idempotency import Claim, IdempotencyStore, Replay
from callcenter_service.problems import ProblemError

Body = dict[str, Any]


def ensure_ready(request: Request) -> None:
    """Writes need the producer and every component caught up; until then: 503, retry."""
    if not request.app.state.runtime.ready():
        raise ProblemError(503, "Not connected to Kafka yet.", headers={"Retry-After": "1"})


def _same(_request: Request, body: Body) -> Body:
    return body


async def idempotent_write(
    request: Request,
    caller: Principal,
    status_code: int,
    write: Callable[[Claim], Awaitable[BaseModel]],
    *,
    secret_fields: tuple[str, ...] = (),
    restore: Callable[[Request, Body], Body] = _same,
) -> BaseModel | JSONResponse:
    """Run `write` once per key; `secret_fields` are never stored, `restore` recomputes them."""
    store: IdempotencyStore = request.app.state.idempotency
    claim = await store.claim(request, caller)
    if isinstance(claim, Replay):
        return Replay(claim.status_code, restore(request, claim.body)).response()
    try:
        answer = await write(claim)
    except BaseException:
        await store.release(claim)
        raise
    stored = {k: v for k, v in answer.model_dump(mode="json").items() if k not in secret_fields}
    await store.complete(claim, status_code, stored)
    return answer
