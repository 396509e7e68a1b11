"""`GET /v1/whoami`: what the presented credential is, in every service (Stripe's "account")."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from callcenter_service.auth import Caller
from callcenter_service.problems import COMMON_PROBLEMS

router = APIRouter(prefix="/v1", tags=["auth"], responses=COMMON_PROBLEMS)


class Identity(BaseModel):
    operator: bool
    tenant_id: str | None
    key_id: str | None
    scopes: list[str]


@router.get("/whoami", response_model=Identity, summary="Who the bearer token belongs to")
async def whoami(principal: Caller) -> Identity:
    return Identity(
        operator=principal.is_operator,
        tenant_id=principal.tenant_id,
        key_id=principal.key_id,
        scopes=sorted(principal.scopes),
    )
