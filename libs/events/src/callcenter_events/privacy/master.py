"""Master keys: the key-encryption keys that wrap every data subject's key.

`CALLCENTER_MASTER_KEYS` holds one or more `id:base64url(32 bytes)` pairs separated by commas;
the first wraps new keys, all of them unwrap. Rotation: put a new key first, keep the old ones
until `Vault.rewrap` has re-wrapped every subject key under the new one, then drop them.
A KMS (AWS KMS, Vault Transit, ...) fits behind the same `KeyWrapper` interface.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from callcenter_events.privacy.sealing import NONCE_BYTES, TamperedValueError

KEY_BYTES: Final = 32
DEVELOPMENT_MASTER_KEYS: Final = "dev1:" + base64.urlsafe_b64encode(
    hashlib.sha256(b"callcenter development master key - never in production").digest()
).decode().rstrip("=")


class UnknownMasterKeyError(LookupError):
    """A subject key was wrapped by a master key this process was not given."""


@dataclass(frozen=True, slots=True)
class WrappedKey:
    master_key_id: str
    blob: bytes


class KeyWrapper(Protocol):
    """Wraps and unwraps data keys, the subject id bound in: wrapped keys cannot be swapped."""

    @property
    def active_id(self) -> str: ...

    def wrap(self, subject_id: str, data_key: bytes) -> WrappedKey: ...

    def unwrap(self, subject_id: str, wrapped: WrappedKey) -> bytes: ...


class MasterKeys:
    """Local master keys (from the environment); the first one wraps, every one unwraps."""

    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("at least one master key is needed")
        for key_id, key in keys:
            if len(key) != KEY_BYTES or not key_id or ":" in key_id or "," in key_id:
                raise ValueError(f"master key {key_id!r} must be {KEY_BYTES} bytes with a plain id")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys}
        self._active = keys[0][0]

    @classmethod
    def parse(cls, text: str) -> MasterKeys:
        """Read `id:base64url,id:base64url` (first one active)."""
        pairs = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            key_id, sep, encoded = item.partition(":")
            if not sep:
                raise ValueError("a master key is written as <id>:<base64url of 32 bytes>")
            pairs.append((key_id, _b64decode(encoded)))
        return cls(pairs)

    @staticmethod
    def generate(key_id: str) -> str:
        """A new master key in the form `parse` reads."""
        return f"{key_id}:{base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode().rstrip('=')}"

    @property
    def active_id(self) -> str:
        return self._active

    def wrap(self, subject_id: str, data_key: bytes) -> WrappedKey:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self._active].encrypt(nonce, data_key, subject_id.encode())
        return WrappedKey(self._active, nonce + sealed)

    def unwrap(self, subject_id: str, wrapped: WrappedKey) -> bytes:
        key = self._keys.get(wrapped.master_key_id)
        if key is None:
            raise UnknownMasterKeyError(f"master key {wrapped.master_key_id!r} is not configured")
        nonce, sealed = wrapped.blob[:NONCE_BYTES], wrapped.blob[NONCE_BYTES:]
        try:
            return key.decrypt(nonce, sealed, subject_id.encode())
        except InvalidTag:
            raise TamperedValueError(f"the key of subject {subject_id} does not unwrap") from None


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise ValueError("a master key is not base64url") from None
