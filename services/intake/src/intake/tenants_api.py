"""Tenants and their API keys (operator only). Keys are shown once; the log holds a hash."""

from __future__ import annotations

from typing import Annotated, Any

from callcenter_events import utc_now
from callcenter_events.models import (
    ApiKeyCreated,
    ApiKeyRevoked,
    Scope,
    TenantCreated,
    TenantSettings,
    TenantSettingsChanged,
)
from callcenter_service import Caller, Operator, ProblemError
from callcenter_service.directory import (
    TenantDirectory,
    derived_api_key,
    hash_key,
    new_api_key,
)
from callcenter_service.idempotency import Claim
from callcenter_service.problems import COMMON_PROBLEMS, problem_responses
from callcenter_service.writes import ensure_ready, idempotent_write
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from intake.publishing import publish_to_directory
from intake.schemas import Name

router = APIRouter(
    prefix="/v1/tenants", tags=["tenants"], responses=COMMON_PROBLEMS | problem_responses(409)
)
TenantId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]


class TenantCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "ACME Energy", "tenant_id": "acme-energy"}]},
    )

    name: str = Field(min_length=1, max_length=200)
    tenant_id: Name | None = Field(None, description="Chosen id; a random one when absent")
    settings: TenantSettings = Field(default_factory=TenantSettings)


class Tenant(BaseModel):
    tenant_id: str
    name: str
    settings: TenantSettings
    position: str | None = None


class KeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"scopes": ["calls:write", "calls:read"], "name": "crm"}]},
    )

    scopes: list[Scope] = Field(min_length=1)
    name: str | None = Field(None, max_length=100)


class KeyCreated(BaseModel):
    key_id: str
    api_key: str = Field(description="Shown once; store it safely, it cannot be read again")
    scopes: list[Scope]
    name: str | None
    position: str


class KeyRevoked(BaseModel):
    key_id: str
    revoked: bool = True
    position: str | None = Field(description="Null when the key was already revoked")


def _directory(request: Request) -> TenantDirectory:
    directory: TenantDirectory = request.app.state.directory.directory
    return directory


def _tenant(request: Request, tenant_id: str) -> TenantCreated:
    tenant = _directory(request).tenants.get(tenant_id)
    if tenant is None:
        raise ProblemError(404, f"No tenant {tenant_id!r}.")
    return tenant


@router.post("", status_code=201, response_model=Tenant)
async def create_tenant(
    body: TenantCreate, request: Request, operator: Operator
) -> Tenant | JSONResponse:
    """A client company becomes a tenant."""
    ensure_ready(request)

    async def write(claim: Claim) -> Tenant:
        return await _create_tenant(request, body, claim)

    return await idempotent_write(request, operator, 201, write)  # type: ignore[return-value]


async def _create_tenant(request: Request, body: TenantCreate, claim: Claim) -> Tenant:
    tenant_id = body.tenant_id or f"t-{claim.derived_id('tenant')[:12]}"
    if tenant_id in _directory(request).tenants:
        raise ProblemError(409, f"Tenant {tenant_id!r} exists already.")
    event = TenantCreated(
        tenant_id=tenant_id, name=body.name, settings=body.settings, created_at=utc_now()
    )
    position = await publish_to_directory(request, event)
    return Tenant(
        tenant_id=tenant_id, name=body.name, settings=body.settings, position=str(position)
    )


@router.get("/{tenant_id}", response_model=Tenant)
async def get_tenant(tenant_id: TenantId, request: Request, caller: Caller) -> Tenant:
    """The operator sees every tenant; a tenant's key sees its own."""
    if not caller.sees(tenant_id):
        raise ProblemError(404, f"No tenant {tenant_id!r}.")
    tenant = _tenant(request, tenant_id)
    return Tenant(tenant_id=tenant.tenant_id, name=tenant.name, settings=tenant.settings)


@router.put("/{tenant_id}/settings", response_model=Tenant)
async def change_settings(
    tenant_id: TenantId, body: TenantSettings, request: Request, operator: Operator
) -> Tenant:
    """Replace the tenant's settings (thresholds, post-call survey, wrap-up limit, rate limit)."""
    ensure_ready(request)
    tenant = _tenant(request, tenant_id)
    event = TenantSettingsChanged(tenant_id=tenant_id, settings=body, changed_at=utc_now())
    position = await publish_to_directory(request, event)
    return Tenant(tenant_id=tenant_id, name=tenant.name, settings=body, position=str(position))


@router.post("/{tenant_id}/api-keys", status_code=201, response_model=KeyCreated)
async def create_api_key(
    tenant_id: TenantId, body: KeyCreate, request: Request, operator: Operator
) -> KeyCreated | JSONResponse:
    """A new API key with scopes; the answer is the only place the key is ever shown.

    A retry with the same `Idempotency-Key` answers the same key again: it is derived from the
    key, never stored.
    """
    ensure_ready(request)
    _tenant(request, tenant_id)

    async def write(claim: Claim) -> KeyCreated:
        return await _create_key(request, tenant_id, body, claim)

    return await idempotent_write(  # type: ignore[return-value]
        request, operator, 201, write, secret_fields=("api_key",), restore=_restore_key
    )


def _key_for(request: Request, claim_owner: str, idempotency_key: str | None) -> tuple[str, str]:
    if idempotency_key is None:
        return new_api_key()
    secret = request.app.state.settings.operator_token.get_secret_value().encode()
    return derived_api_key(secret, f"{claim_owner}/{idempotency_key}")


def _restore_key(request: Request, body: dict[str, Any]) -> dict[str, Any]:
    _key_id, api_key = _key_for(request, "operator", request.headers.get("idempotency-key"))
    return body | {"api_key": api_key}


async def _create_key(
    request: Request, tenant_id: str, body: KeyCreate, claim: Claim
) -> KeyCreated:
    key_id, api_key = _key_for(request, claim.owner, claim.key)
    if key_id in _directory(request).keys:
        raise ProblemError(409, "This API key exists already.")
    scopes = sorted(set(body.scopes))
    event = ApiKeyCreated(
        tenant_id=tenant_id,
        key_id=key_id,
        name=body.name,
        scopes=scopes,
        key_hash=hash_key(api_key),
        created_at=utc_now(),
    )
    position = await publish_to_directory(request, event)
    return KeyCreated(
        key_id=key_id, api_key=api_key, scopes=scopes, name=body.name, position=str(position)
    )


@router.delete("/{tenant_id}/api-keys/{key_id}", response_model=KeyRevoked)
async def revoke_api_key(
    tenant_id: TenantId, key_id: str, request: Request, _op: Operator
) -> KeyRevoked:
    """The key stops working in every service within seconds. Revoking twice is harmless."""
    ensure_ready(request)
    key = _directory(request).keys.get(key_id)
    if key is None or key.tenant_id != tenant_id:
        raise ProblemError(404, f"No API key {key_id!r} for tenant {tenant_id!r}.")
    if key.revoked:
        return KeyRevoked(key_id=key_id, position=None)
    event = ApiKeyRevoked(tenant_id=tenant_id, key_id=key_id, revoked_at=utc_now())
    position = await publish_to_directory(request, event)
    return KeyRevoked(key_id=key_id, position=str(position))
