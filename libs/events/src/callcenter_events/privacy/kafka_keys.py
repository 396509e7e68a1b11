"""The subject keys in a compacted Kafka topic, read in full by every instance that needs them.

Writing a key waits for the broker's acknowledgement before the key is used, so no event is ever
sealed under a key that is not in the log. An erasure writes a tombstone: every reader drops the
key (and its cached copy) within a fetch, and the log cleaner removes the record from disk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import structlog

from callcenter_events.broadcast import TopicFollower
from callcenter_events.codec import Record
from callcenter_events.privacy.keystore import KeyIndex, KeyRecord, KeyStoreUnavailableError
from callcenter_events.producer import EventProducer
from callcenter_events.reading import RawRecord

log = structlog.get_logger(__name__)
REFRESH_TIMEOUT_S = 5.0


class KafkaKeyStore(KeyIndex, TopicFollower):
    def __init__(self, bootstrap_servers: str, topic: str, producer: EventProducer) -> None:
        KeyIndex.__init__(self)
        TopicFollower.__init__(self, bootstrap_servers, topic)
        self._producer = producer
        self._refreshing: asyncio.Future[None] | None = None

    async def put(self, record: KeyRecord) -> None:
        """Store a key record; never one of a subject known to be erased."""
        if self.is_erased(record.subject_id):
            return
        key = record.subject_id.encode()
        await self._producer.send_record(self._topic, Record(key, record.to_json(), ()))
        self.remember(record)

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
        for raw in records:
            subject_id = (raw.record.key or b"").decode(errors="replace")
            if raw.record.value is None:
                self.forget(subject_id)
                continue
            try:
                self.remember(KeyRecord.from_json(raw.record.value))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("subject_key_unreadable", subject_id=subject_id, error=repr(exc))
