"""Who is calling: for now the operator token (tenant API keys come with intake's tenants).

The dependencies are `async` on purpose: they never block, and a plain `def` would send every
request through FastAPI's thread pool twice.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request

from callcenter_service.problems import ProblemError
from callcenter_service.settings import ServiceSettings

BEARER = "bearer "


async def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith(BEARER) or not header[len(BEARER) :].strip():
        raise ProblemError(
            401,
            "Send `Authorization: Bearer <token>`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return header[len(BEARER) :].strip()


async def require_operator(request: Request, token: Annotated[str, Depends(bearer_token)]) -> str:
    settings: ServiceSettings = request.app.state.settings
    expected = settings.operator_token.get_secret_value()
    if not secrets.compare_digest(token.encode(), expected.encode()):
        raise ProblemError(401, "The token is not valid.", headers={"WWW-Authenticate": "Bearer"})
    return "operator"


Operator = Annotated[str, Depends(require_operator)]
