"""Tenants (client companies) and their API keys: owned by intake, on the tenants topic.

Only a SHA-256 hash of an API key ever reaches the log; the key itself is shown once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from callcenter_events.registry import REGISTRY, Event
from callcenter_events.topics import TENANTS


class Scope(StrEnum):
    CALLS_WRITE = "calls:write"
    CALLS_READ = "calls:read"
    SURVEYS_WRITE = "surveys:write"
    SURVEYS_READ = "surveys:read"
    ANALYTICS_READ = "analytics:read"


class TenantSettings(BaseModel):
    """A tenant's service targets: the thresholds its KPIs are measured against."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    service_level_threshold_s: int = Field(20, ge=1, le=3600)
    short_abandon_s: int = Field(5, ge=0, le=600)
    post_call_survey_id: str | None = Field(None, max_length=64)
    wrap_up_limit_s: int = Field(120, ge=0, le=3600)
    api_rate_limit_per_s: float = Field(
        50, ge=1, le=10_000, description="Requests per second per API key (bursts of 2 s)"
    )


@REGISTRY.register("tenant.created", version=1, topic=TENANTS, key="tenant_id", owner="intake")
class TenantCreated(Event):
    """A client company became a tenant of the call center."""

    tenant_id: str
    name: str
    settings: TenantSettings
    created_at: datetime


@REGISTRY.register("api_key.created", version=1, topic=TENANTS, key="tenant_id", owner="intake")
class ApiKeyCreated(Event):
    """An API key for a tenant, with its scopes; `key_hash` is the SHA-256 of the key."""

    tenant_id: str
    key_id: str
    name: str | None = None
    scopes: list[Scope]
    key_hash: str
    created_at: datetime


@REGISTRY.register("api_key.revoked", version=1, topic=TENANTS, key="tenant_id", owner="intake")
class ApiKeyRevoked(Event):
    """An API key stopped working, everywhere."""

    tenant_id: str
    key_id: str
    revoked_at: datetime


@REGISTRY.register(
    "tenant.settings_changed", version=1, topic=TENANTS, key="tenant_id", owner="intake"
)
class TenantSettingsChanged(Event):
    """The operator changed a tenant's settings; `settings` is the whole new set."""

    tenant_id: str
    settings: TenantSettings
    changed_at: datetime
