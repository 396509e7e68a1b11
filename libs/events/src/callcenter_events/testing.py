"""Builders of valid events for tests (of this library and of the services).

Personal fields are sealed with a test vault (development master key, keys in memory), as the
codec refuses to write them in clear.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callcenter_events import Envelope, wrap
from callcenter_events.models import CallReceived
from callcenter_events.privacy import MasterKeys, MemoryKeyStore, SubjectRef, Vault
from callcenter_events.privacy.keystore import KeyRecord
from callcenter_events.privacy.master import DEVELOPMENT_MASTER_KEYS
from callcenter_events.privacy.sealing import seal

RECEIVED_AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
TEST_PHONE = "+493012345678"
TEST_LOOKUP_SECRET = hashlib.sha256(b"callcenter test lookup secret").digest()


_MASTER = MasterKeys.parse(DEVELOPMENT_MASTER_KEYS)
_STORE = MemoryKeyStore()
_KEYS: dict[str, AESGCM] = {}
TEST_VAULT = Vault(_STORE, _MASTER, TEST_LOOKUP_SECRET)
"""A vault whose keys live in memory only; `sealed` stores its test subjects here."""


def sealed(value: str, field: str, tenant_id: str = "acme") -> tuple[str, str]:
    """`value` sealed for `field` of a test subject, and that subject's id (synchronously)."""
    lookup = TEST_VAULT.lookup(SubjectRef(tenant_id, "phone", value))
    subject_id = f"s{lookup[:32]}"
    key = _KEYS.get(subject_id)
    if key is None:
        data_key = AESGCM.generate_key(bit_length=256)
        wrapped = _MASTER.wrap(subject_id, data_key)
        _STORE.remember(KeyRecord(subject_id, tenant_id, lookup, wrapped, RECEIVED_AT))
        key = _KEYS[subject_id] = AESGCM(data_key)
    return seal(key, subject_id, field, value), subject_id


def call_received(call_id: str = "c-1", tenant_id: str = "acme", **changes: object) -> Envelope:
    phone, subject_id = sealed(TEST_PHONE, "caller_phone", tenant_id)
    fields: dict[str, object] = {
        "call_id": call_id,
        "tenant_id": tenant_id,
        "caller_phone": phone,
        "language": "de",
        "topic": "billing",
        "received_at": RECEIVED_AT,
    }
    event = CallReceived.model_validate(fields | changes)
    return wrap(event, source="/test", correlation_id=f"corr-{call_id}", data_subject=subject_id)
