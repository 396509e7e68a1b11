"""Where the subjects' wrapped keys live: the record, and an in-memory index for tests and tools.

A subject key record: subject id (random, reveals nothing), tenant, lookup token (a keyed hash
of what identifies the person, so the same caller gets the same key), and the data key wrapped
by a master key. Erasing a subject removes its record; the index remembers the erasure so that
a reader does not keep looking for the key.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import orjson

from callcenter_events.privacy.master import WrappedKey


@dataclass(frozen=True, slots=True)
class KeyRecord:
    subject_id: str
    tenant_id: str
    lookup: str
    wrapped: WrappedKey
    created_at: datetime

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "subject_id": self.subject_id,
                "tenant_id": self.tenant_id,
                "lookup": self.lookup,
                "master_key_id": self.wrapped.master_key_id,
                "wrapped_key": base64.b64encode(self.wrapped.blob).decode(),
                "created_at": self.created_at.isoformat(),
            }
        )

    @classmethod
    def from_json(cls, raw: bytes) -> KeyRecord:
        data = orjson.loads(raw)
        return cls(
            subject_id=data["subject_id"],
            tenant_id=data["tenant_id"],
            lookup=data["lookup"],
            wrapped=WrappedKey(data["master_key_id"], base64.b64decode(data["wrapped_key"])),
            created_at=datetime.fromisoformat(data["created_at"]),
        )


class KeyStore(Protocol):
    def record(self, subject_id: str) -> KeyRecord | None: ...

    def subjects(self, lookup: str) -> list[str]: ...

    def is_erased(self, subject_id: str) -> bool: ...

    def records(self) -> Iterator[KeyRecord]: ...

    def forget(self, subject_id: str) -> None:
        """Take the subject as erased in this process (its key is gone from the log)."""

    async def put(self, record: KeyRecord) -> None:
        """Store a record durably; it is usable when this returns."""

    async def erase(self, subject_ids: Iterable[str]) -> None:
        """Destroy the subjects' keys, for good."""

    async def refresh(self) -> None:
        """Read what other instances have stored up to now (`KeyStoreUnavailableError` if not)."""


class KeyStoreUnavailableError(RuntimeError):
    """The key store cannot be read up to date now: retry later, never take it as erased."""


class KeyIndex:
    """The records in memory, by subject and by lookup token."""

    def __init__(self) -> None:
        self._records: dict[str, KeyRecord] = {}
        self._by_lookup: dict[str, list[str]] = {}
        self._erased: set[str] = set()

    def record(self, subject_id: str) -> KeyRecord | None:
        return self._records.get(subject_id)

    def subjects(self, lookup: str) -> list[str]:
        return list(self._by_lookup.get(lookup, ()))

    def is_erased(self, subject_id: str) -> bool:
        return subject_id in self._erased

    def records(self) -> Iterator[KeyRecord]:
        return iter(list(self._records.values()))

    def __len__(self) -> int:
        return len(self._records)

    def remember(self, record: KeyRecord) -> None:
        if record.subject_id in self._erased:
            return
        earlier = self._records.get(record.subject_id)
        if earlier is not None and earlier.lookup != record.lookup:
            self._unlist(earlier)
        self._records[record.subject_id] = record
        subjects = self._by_lookup.setdefault(record.lookup, [])
        if record.subject_id not in subjects:
            subjects.append(record.subject_id)

    def apply(self, changes: Iterable[KeyRecord | str]) -> None:
        """Records to keep and subject ids of tombstones, in their order."""
        for change in changes:
            if isinstance(change, KeyRecord):
                self.remember(change)
            else:
                self.forget(change)

    def forget(self, subject_id: str) -> None:
        self._erased.add(subject_id)
        record = self._records.pop(subject_id, None)
        if record is not None:
            self._unlist(record)

    def _unlist(self, record: KeyRecord) -> None:
        subject_id = record.subject_id
        remaining = [s for s in self._by_lookup.get(record.lookup, ()) if s != subject_id]
        if remaining:
            self._by_lookup[record.lookup] = remaining
        else:
            self._by_lookup.pop(record.lookup, None)


class MemoryKeyStore(KeyIndex):
    """A key store for tests and tools: the index alone, nothing durable."""

    async def put(self, record: KeyRecord) -> None:
        if not self.is_erased(record.subject_id):
            self.remember(record)

    async def erase(self, subject_ids: Iterable[str]) -> None:
        for subject_id in subject_ids:
            self.forget(subject_id)

    async def refresh(self) -> None:
        return None
