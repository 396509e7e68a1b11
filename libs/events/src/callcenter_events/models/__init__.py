"""The event models of the platform. Importing this package registers every event type."""

from callcenter_events.models.calls import CallQueued, CallReceived, Direction
from callcenter_events.models.tenants import (
    ApiKeyCreated,
    ApiKeyRevoked,
    Scope,
    TenantCreated,
    TenantSettings,
)

__all__ = [
    "ApiKeyCreated",
    "ApiKeyRevoked",
    "CallQueued",
    "CallReceived",
    "Direction",
    "Scope",
    "TenantCreated",
    "TenantSettings",
]
