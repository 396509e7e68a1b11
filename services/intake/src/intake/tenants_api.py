"""Tenants and their API keys (operator only). Keys are shown once; the log holds a hash."""

from __future__ import annotations

import secrets
from typing import Annotated

from callcenter_events import utc_now
from callcenter_events.models import (
    ApiKeyCreated,
    ApiKeyRevoked,
    Scope,
    TenantCreated,
    TenantSettings,
)
from callcenter_service import Caller, Operator, ProblemError
from callcenter_service.directory import TenantDirectory, hash_key, new_api_key
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from intake.publishing import ensure_ready, publish_to_directory
from intake.schemas import Name

router = APIRouter(prefix="/v1/tenants", tags=["tenants"])
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
async def create_tenant(body: TenantCreate, request: Request, _op: Operator) -> Tenant:
    """A client company becomes a tenant."""
    ensure_ready(request)
    tenant_id = body.tenant_id or f"t-{secrets.token_hex(6)}"
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


@router.post("/{tenant_id}/api-keys", status_code=201, response_model=KeyCreated)
async def create_api_key(
    tenant_id: TenantId, body: KeyCreate, request: Request, _op: Operator
) -> KeyCreated:
    """A new API key with scopes; the answer is the only place the key is ever shown."""
    ensure_ready(request)
    _tenant(request, tenant_id)
    key_id, api_key = new_api_key()
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
