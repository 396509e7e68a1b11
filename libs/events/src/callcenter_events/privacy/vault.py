"""The one interface services use for personal data: seal before writing, reveal when needed.

    ref = SubjectRef(tenant_id, "phone", "+4930123456")
    sealed, subject_id = await vault.seal_event(event, ref)   # personal fields now sealed
    plain = await vault.reveal_event(sealed)                  # None where the subject is erased

A subject is found by a lookup token, a keyed hash (HMAC-SHA256 with the lookup secret) of
tenant, kind and value, so the same caller always gets the same key without the number being
stored anywhere in clear. Two instances that meet a new caller at the same moment may create two
keys; both stay valid and erasure destroys both.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, TypeVar

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel

from callcenter_events.personal import personal_fields
from callcenter_events.privacy.keystore import KeyRecord, KeyStore
from callcenter_events.privacy.master import KEY_BYTES, KeyWrapper
from callcenter_events.privacy.sealing import is_sealed, open_parsed, parse, seal

SubjectKind = Literal["phone", "customer"]
M = TypeVar("M", bound=BaseModel)
CACHE_SIZE = 20_000


@dataclass(frozen=True, slots=True)
class SubjectRef:
    """What identifies a data subject within a tenant: a phone number or a customer reference."""

    tenant_id: str
    kind: SubjectKind
    value: str


class Vault:
    def __init__(self, store: KeyStore, master: KeyWrapper, lookup_secret: bytes) -> None:
        self.store = store
        self._master = master
        self._lookup_secret = lookup_secret
        self._keys: OrderedDict[str, bytes] = OrderedDict()  # unwrapped data keys, LRU
        self._creating: dict[str, asyncio.Future[str]] = {}

    def lookup(self, ref: SubjectRef) -> str:
        message = "\x1f".join((ref.tenant_id, ref.kind, ref.value.strip())).encode()
        return hmac.new(self._lookup_secret, message, hashlib.sha256).hexdigest()

    def subjects_of(self, ref: SubjectRef) -> list[str]:
        """Every live subject id for this person (usually one)."""
        return self.store.subjects(self.lookup(ref))

    async def subject_for(self, ref: SubjectRef) -> str:
        """The person's subject id; a new subject (and key, stored durably) the first time."""
        lookup = self.lookup(ref)
        known = self.store.subjects(lookup)
        if known:
            return known[0]
        pending = self._creating.get(lookup)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._creating[lookup] = future
        try:
            subject_id = await self._create(ref.tenant_id, lookup)
            future.set_result(subject_id)
            return subject_id
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody else has to
            raise
        finally:
            del self._creating[lookup]

    async def _create(self, tenant_id: str, lookup: str) -> str:
        subject_id = f"s{uuid.uuid4().hex}"
        data_key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
        record = KeyRecord(
            subject_id=subject_id,
            tenant_id=tenant_id,
            lookup=lookup,
            wrapped=self._master.wrap(subject_id, data_key),
            created_at=datetime.now(UTC),
        )
        await self.store.put(record)
        self._cache(subject_id, data_key)
        return subject_id

    async def seal_event(
        self,
        event: M,
        subject: SubjectRef | str,
        *,
        overrides: Mapping[str, SubjectRef | str] | None = None,
    ) -> tuple[M, str | None]:
        """The event with its personal fields sealed, and the id of the subject they are about.

        `subject` (a reference, found or created, or a known subject id) owns every personal
        field except those `overrides` give to another subject (a call of a known customer: the
        reference belongs to the customer, the number to whoever has that number). An erased
        subject id takes no new personal data: its fields are dropped.
        """
        plain = _plain_personal_values(event)
        if not plain:
            return event, None
        main = await self._subject_id(subject)
        owners = dict.fromkeys(plain, main)
        for name, other in (overrides or {}).items():
            if name in plain:
                owners[name] = await self._subject_id(other)
        sealed = {name: await self._seal(owners[name], name, plain[name]) for name in plain}
        return event.model_copy(update=sealed), main

    async def seal_value(self, subject_id: str, field: str, value: str) -> str | None:
        """One value sealed for a known subject; None if the subject is erased."""
        return await self._seal(subject_id, field, value)

    async def _subject_id(self, subject: SubjectRef | str) -> str:
        return subject if isinstance(subject, str) else await self.subject_for(subject)

    async def _seal(self, subject_id: str, field: str, value: str) -> str | None:
        key = await self._key(subject_id)
        return None if key is None else seal(key, subject_id, field, value)

    async def reveal(self, value: str | None, field: str) -> str | None:
        """The plain value; None when its subject is erased. Unsealed values pass as they are."""
        if value is None or not is_sealed(value):
            return value
        subject_id, blob = parse(value)
        key = await self._key(subject_id)
        return None if key is None else open_parsed(key, subject_id, blob, field)

    async def reveal_event(self, event: M) -> M:
        fields = personal_fields(type(event))
        values = {name: getattr(event, name) for name in fields}
        revealed = {name: await self.reveal(value, name) for name, value in values.items()}
        return event.model_copy(update=revealed)

    async def erase(self, subject_ids: Iterable[str]) -> None:
        ids = list(subject_ids)
        for subject_id in ids:
            self._keys.pop(subject_id, None)
        await self.store.erase(ids)

    async def rewrap(self) -> int:
        """Re-wrap every subject key under the active master key; answers how many changed.

        A subject erased meanwhile is never written again: its erasure is checked before each
        write, and any erasure that raced a write gets its tombstone again afterwards, so the
        re-written record can never outlive the erasure in the compacted topic.
        """
        rewrapped = []
        for record in self.store.records():
            if record.wrapped.master_key_id == self._master.active_id:
                continue
            if self.store.is_erased(record.subject_id):
                continue
            data_key = self._master.unwrap(record.subject_id, record.wrapped)
            wrapped = self._master.wrap(record.subject_id, data_key)
            await self.store.put(
                KeyRecord(
                    record.subject_id, record.tenant_id, record.lookup, wrapped, record.created_at
                )
            )
            rewrapped.append(record.subject_id)
        await self.store.refresh()
        raced = [subject_id for subject_id in rewrapped if self.store.is_erased(subject_id)]
        if raced:
            await self.store.erase(raced)
        return len(rewrapped) - len(raced)

    async def _key(self, subject_id: str) -> AESGCM | None:
        record = self.store.record(subject_id)
        if record is None and not self.store.is_erased(subject_id):
            await self.store.refresh()  # written a moment ago by another instance?
            record = self.store.record(subject_id)
            if record is None:  # a key is in the log before any value sealed under it
                self.store.forget(subject_id)
        if record is None:
            self._keys.pop(subject_id, None)
            return None
        data_key = self._keys.get(subject_id)
        if data_key is not None:
            self._keys.move_to_end(subject_id)
        else:
            data_key = self._master.unwrap(subject_id, record.wrapped)
            self._cache(subject_id, data_key)
        return AESGCM(data_key)

    def _cache(self, subject_id: str, data_key: bytes) -> None:
        """Keep the unwrapped key: 32 bytes, where a cipher object takes about 2.5 KB."""
        self._keys[subject_id] = data_key
        if len(self._keys) > CACHE_SIZE:
            self._keys.popitem(last=False)


def _plain_personal_values(event: BaseModel) -> dict[str, str]:
    values = {name: getattr(event, name) for name in personal_fields(type(event))}
    return {
        name: value for name, value in values.items() if value is not None and not is_sealed(value)
    }


def new_lookup_secret() -> bytes:
    return os.urandom(32)
