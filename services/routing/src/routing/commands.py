"""Running an engine command for a request: the 503 while routing rebuilds, the position."""

from __future__ import annotations

from collections.abc import Callable

from callcenter_service import ProblemError
from callcenter_service.correlation import current_correlation_id
from callcenter_service.writes import ensure_ready
from fastapi import Request

from routing.core import Command, Recorded, RoutingCore, StaleStateError
from routing.domain import decisions as fx

RETRY = {"Retry-After": "1"}


def core_of(request: Request) -> RoutingCore:
    core: RoutingCore = request.app.state.core
    return core


def serving_core(request: Request) -> RoutingCore:
    """The core, if this instance owns routing and its state is current (else 503)."""
    core = core_of(request)
    if core.stale or core.paused:
        raise ProblemError(503, f"Not now: {core.unavailable_because()}; retry.", headers=RETRY)
    return core


async def run(request: Request, command: Command) -> Recorded:
    """Run `command` now; its facts are in the log when this returns."""
    ensure_ready(request)
    try:
        return await core_of(request).execute(command, correlation_id=current_correlation_id())
    except StaleStateError as exc:
        raise ProblemError(503, f"Not now: {exc}; retry.", headers=RETRY) from None


def position_of(recorded: Recorded, wanted: Callable[[fx.Effect], bool]) -> str | None:
    """The log position of the first recorded fact that `wanted` picks."""
    return next((str(position) for effect, position in recorded if wanted(effect)), None)
