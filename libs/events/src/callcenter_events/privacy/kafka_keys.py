"""The subject keys in a compacted Kafka topic, read in full by every instance that needs them.

Each instance keeps what it read in its own `KeyFile` (on disk, so its memory does not grow with
the number of data subjects) or, given one, in an in-memory `KeyIndex`.

Writing a key waits for the broker's acknowledgement before the key is used, so no event is ever
sealed under a key that is not in the log. An erasure writes a tombstone: every reader drops the
key (and its cached copy) within a fetch, and the log cleaner removes the record from disk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

import structlog

from callcenter_events.broadcast import TopicFollower
from callcenter_events.codec import Record
from callcenter_events.connection import KafkaConnection
from callcenter_events.privacy.key_file import KeyChange, KeyFile
from callcenter_events.privacy.keystore import KeyRecord, KeyStoreUnavailableError
from callcenter_events.producer import EventProducer
from callcenter_events.reading import RawRecord

log = structlog.get_logger(__name__)
REFRESH_TIMEOUT_S = 5.0


class KeyTable(Protocol):
    """Where an instance keeps the records it has read: `KeyFile` or the in-memory `KeyIndex`."""

    def record(self, subject_id: str) -> KeyRecord | None: ...

    def subjects(self, lookup: str) -> list[str]: ...

    def is_erased(self, subject_id: str) -> bool: ...

    def records(self) -> Iterator[KeyRecord]: ...

    def __len__(self) -> int: ...

    def apply(self, changes: Iterable[KeyChange]) -> None: ...


class KafkaKeyStore(TopicFollower):
    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        producer: EventProducer,
        *,
        state_dir: Path | None = None,
        table: KeyTable | None = None,
        connection: KafkaConnection | None = None,
    ) -> None:
        super().__init__(bootstrap_servers, topic, connection=connection)
        self._producer = producer
        self._table: KeyTable = table if table is not None else KeyFile(state_dir)
        self._refreshing: asyncio.Future[None] | None = None

    def record(self, subject_id: str) -> KeyRecord | None:
        return self._table.record(subject_id)

    def subjects(self, lookup: str) -> list[str]:
        return self._table.subjects(lookup)

    def is_erased(self, subject_id: str) -> bool:
        return self._table.is_erased(subject_id)

    def records(self) -> Iterator[KeyRecord]:
        return self._table.records()

    def __len__(self) -> int:
        return len(self._table)

    def forget(self, subject_id: str) -> None:
        self._table.apply([subject_id])

    async def stop(self) -> None:
        await super().stop()
        if isinstance(self._table, KeyFile):
            self._table.close()

    async def put(self, record: KeyRecord) -> None:
        """Store a key record; never one of a subject known to be erased."""
        if self.is_erased(record.subject_id):
            return
        key = record.subject_id.encode()
        await self._producer.send_record(self._topic, Record(key, record.to_json(), ()))
        self._table.apply([record])

    async def erase(self, subject_ids: Iterable[str]) -> None:
        for subject_id in subject_ids:
            self.forget(subject_id)
            await self._producer.send_record(self._topic, Record(subject_id.encode(), None, ()))

    async def refresh(self) -> None:
        """Read up to the topic's current end; concurrent callers share one catch-up."""
        if self._refreshing is None:
            self._refreshing = asyncio.ensure_future(self._catch_up_now())
            self._refreshing.add_done_callback(self._refreshed)
        await asyncio.shield(self._refreshing)

    def _refreshed(self, done: asyncio.Future[None]) -> None:
        self._refreshing = None
        if not done.cancelled():
            done.exception()  # retrieved here; every waiter gets it from the shield

    async def _catch_up_now(self) -> None:
        if self._consumer is None or not await self.catch_up(REFRESH_TIMEOUT_S):
            raise KeyStoreUnavailableError(
                f"the subject keys could not be read up to date within {REFRESH_TIMEOUT_S} s"
            )

    def _apply_records(self, records: Iterable[RawRecord]) -> None:
        self._table.apply(_changes(records))


def _changes(records: Iterable[RawRecord]) -> Iterator[KeyChange]:
    for raw in records:
        subject_id = (raw.record.key or b"").decode(errors="replace")
        if raw.record.value is None:
            yield subject_id
            continue
        try:
            yield KeyRecord.from_json(raw.record.value)
        except (ValueError, KeyError, TypeError) as exc:
            log.error("subject_key_unreadable", subject_id=subject_id, error=repr(exc))
