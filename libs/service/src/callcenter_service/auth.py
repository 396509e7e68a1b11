"""Who is calling, in one place for every service: the operator token or a tenant's API key.

401 for a missing or unknown (or revoked) credential, 403 for a missing scope or an
operator-only path. A key that was just created elsewhere may not have reached this instance
yet: an unknown key in the right shape waits (bounded) until the tenants topic is read to its
end before it is refused.

The dependencies are `async` on purpose: they never block, and a plain `def` would send every
request through FastAPI's thread pool.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated

from callcenter_events.models import Scope
from fastapi import Depends, Request

from callcenter_service.directory import OPERATOR, Principal, key_id_of
from callcenter_service.limits import RateLimiter, retry_after
from callcenter_service.problems import ProblemError
from callcenter_service.settings import ServiceSettings

BEARER = "bearer "
NEW_KEY_WAIT_S = 2.0
UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


async def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith(BEARER) or not header[len(BEARER) :].strip():
        raise ProblemError(401, "Send `Authorization: Bearer <token>`.", headers=UNAUTHORIZED)
    return header[len(BEARER) :].strip()


async def authenticate(request: Request) -> Principal:
    token = await bearer_token(request)
    settings: ServiceSettings = request.app.state.settings
    if secrets.compare_digest(token.encode(), settings.operator_token.get_secret_value().encode()):
        return OPERATOR
    directory = request.app.state.directory
    principal: Principal | None = directory.principal_for(token)
    if principal is None and key_id_of(token) and await directory.catch_up(NEW_KEY_WAIT_S):
        principal = directory.principal_for(token)
    if principal is None:
        raise ProblemError(
            401, "The token is not valid (unknown or revoked).", headers=UNAUTHORIZED
        )
    _limit_rate(request, principal)
    return principal


def _limit_rate(request: Request, principal: Principal) -> None:
    """Each key gets its tenant's rate (per instance of the service)."""
    tenant = request.app.state.directory.directory.tenants.get(principal.tenant_id)
    if tenant is None or principal.key_id is None:
        return
    limiter: RateLimiter = request.app.state.rate_limiter
    rate = tenant.settings.api_rate_limit_per_s
    wait = limiter.wait_needed(principal.key_id, rate)
    if wait > 0:
        raise ProblemError(
            429,
            f"Too many requests for this API key; the limit is {rate:g} per second.",
            headers={"Retry-After": retry_after(wait)},
        )


def require(scope: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through the operator and keys holding `scope`."""

    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if scope.value not in principal.scopes:
            raise ProblemError(403, f"This API key lacks the scope `{scope.value}`.")
        return principal

    return check


async def require_operator(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
    if not principal.is_operator:
        raise ProblemError(403, "Only the call center's operator may do this.")
    return principal


Operator = Annotated[Principal, Depends(require_operator)]
Caller = Annotated[Principal, Depends(authenticate)]
CallsWriter = Annotated[Principal, Depends(require(Scope.CALLS_WRITE))]
CallsReader = Annotated[Principal, Depends(require(Scope.CALLS_READ))]
SurveysWriter = Annotated[Principal, Depends(require(Scope.SURVEYS_WRITE))]
SurveysReader = Annotated[Principal, Depends(require(Scope.SURVEYS_READ))]
AnalyticsReader = Annotated[Principal, Depends(require(Scope.ANALYTICS_READ))]
