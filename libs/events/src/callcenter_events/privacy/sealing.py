"""The sealed form of one personal value: `pd1.<subject id>.<base64url(nonce | ciphertext)>`.

AES-256-GCM with a random 96-bit nonce per value. The subject id and the field name are bound in
as associated data, so a sealed value copied into another field or another subject's event does
not open. The token names its subject, so a sealed value stored in a projection can be opened
(or found erased) on its own, long after the event that carried it.
"""

from __future__ import annotations

import base64
import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED_PREFIX: Final = "pd1."
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16


class SealedValueError(ValueError):
    """A value that claims to be sealed but is not a well-formed token."""


class TamperedValueError(SealedValueError):
    """The token does not open under its subject's key: altered, moved, or a wrong key."""


def is_sealed(value: str) -> bool:
    return value.startswith(SEALED_PREFIX)


def seal(key: AESGCM, subject_id: str, field: str, plaintext: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = key.encrypt(nonce, plaintext.encode(), _associated(subject_id, field))
    body = base64.urlsafe_b64encode(nonce + ciphertext).decode().rstrip("=")
    return f"{SEALED_PREFIX}{subject_id}.{body}"


def subject_of(token: str) -> str:
    return parse(token)[0]


def open_sealed(key: AESGCM, token: str, field: str) -> str:
    return open_parsed(key, *parse(token), field)


def open_parsed(key: AESGCM, subject_id: str, blob: bytes, field: str) -> str:
    """Open a token already split by `parse` (a reader that needed its subject first)."""
    nonce, ciphertext = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    try:
        plaintext = key.decrypt(nonce, ciphertext, _associated(subject_id, field))
    except InvalidTag:
        raise TamperedValueError(f"sealed {field!r} does not open under its key") from None
    return plaintext.decode()


def parse(token: str) -> tuple[str, bytes]:
    """The subject id and the sealed bytes of a token; `SealedValueError` if malformed."""
    if not is_sealed(token):
        raise SealedValueError("not a sealed value")
    parts = token[len(SEALED_PREFIX) :].split(".")
    if len(parts) != 2 or not parts[0]:
        raise SealedValueError("sealed value is not <subject>.<data>")
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        blob = base64.b64decode(padded, altchars=b"-_", validate=True)
    except ValueError:
        raise SealedValueError("sealed value data is not base64url") from None
    if len(blob) < NONCE_BYTES + TAG_BYTES:
        raise SealedValueError("sealed value is too short")
    return parts[0], blob


def _associated(subject_id: str, field: str) -> bytes:
    return f"{subject_id}/{field}".encode()
