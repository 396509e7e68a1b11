"""Tenants and API keys as every service sees them: a fold of the tenants topic.

Pure and synchronous: `apply` takes events in log order, `principal_for` answers who a token
belongs to. The runtime keeps it fed (see `callcenter_service.runtime.DirectoryComponent`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from callcenter_events import Envelope
from callcenter_events.models import (
    ApiKeyCreated,
    ApiKeyRevoked,
    Scope,
    TenantCreated,
    TenantSettingsChanged,
)

KEY_PATTERN = re.compile(r"^cck_([0-9a-f]{16})_[A-Za-z0-9_-]{20,}$")
ALL_SCOPES = frozenset(scope.value for scope in Scope)


def hash_key(api_key: str) -> str:
    """Keys are 256-bit random secrets, so one SHA-256 (no slow KDF) cannot be reversed."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key() -> tuple[str, str]:
    """A fresh `(key_id, api_key)`; the key names its id, so a lookup needs no scan."""
    key_id = secrets.token_hex(8)
    return key_id, f"cck_{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(token: str) -> str | None:
    match = KEY_PATTERN.match(token)
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the operator (no tenant, every scope) or one tenant's API key."""

    tenant_id: str | None
    scopes: frozenset[str]
    key_id: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.tenant_id is None

    def sees(self, tenant_id: str) -> bool:
        return self.is_operator or tenant_id == self.tenant_id


OPERATOR = Principal(tenant_id=None, scopes=ALL_SCOPES)


@dataclass(slots=True)
class ApiKey:
    key_id: str
    tenant_id: str
    scopes: frozenset[str]
    key_hash: str
    name: str | None = None
    revoked: bool = False


@dataclass
class TenantDirectory:
    tenants: dict[str, TenantCreated] = field(default_factory=dict)
    keys: dict[str, ApiKey] = field(default_factory=dict)

    def apply(self, envelope: Envelope) -> None:
        event = envelope.data
        if isinstance(event, TenantCreated):
            self.tenants.setdefault(event.tenant_id, event)
        elif isinstance(event, TenantSettingsChanged) and event.tenant_id in self.tenants:
            tenant = self.tenants[event.tenant_id]
            self.tenants[event.tenant_id] = tenant.model_copy(update={"settings": event.settings})
        elif isinstance(event, ApiKeyCreated):
            self.keys.setdefault(event.key_id, _api_key(event))
        elif isinstance(event, ApiKeyRevoked) and event.key_id in self.keys:
            self.keys[event.key_id].revoked = True

    def principal_for(self, token: str) -> Principal | None:
        key_id = key_id_of(token)
        key = self.keys.get(key_id) if key_id else None
        if key is None or key.revoked:
            return None
        if not secrets.compare_digest(key.key_hash, hash_key(token)):
            return None
        return Principal(tenant_id=key.tenant_id, scopes=key.scopes, key_id=key.key_id)


def _api_key(event: ApiKeyCreated) -> ApiKey:
    scopes = frozenset(scope.value for scope in event.scopes)
    return ApiKey(event.key_id, event.tenant_id, scopes, event.key_hash, event.name)


def derived_api_key(secret: bytes, label: str) -> tuple[str, str]:
    """A `(key_id, api_key)` that only the holder of `secret` can compute again from `label`.

    Lets intake answer a retried key creation (same Idempotency-Key) with the same key without
    ever storing the key itself.
    """
    digest = hmac.new(secret, f"api-key/{label}".encode(), hashlib.sha256).digest()
    key_id = digest[:8].hex()
    return key_id, f"cck_{key_id}_{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"
