"""Turning consumed records into a batch of envelopes, and handing it to a handler safely.

Shared by the Kafka consumer and the in-memory bus, so unit tests exercise the same rules:
malformed records go to the dead letters, duplicates (same event id) are dropped, types a
consumer does not read are skipped unparsed, and a handler failure is narrowed down to the one
event that caused it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import structlog

from callcenter_events.batch import Batch, BatchHandler, TransientError
from callcenter_events.codec import MalformedEventError, Record, decode, encode
from callcenter_events.deadletter import DeadLetters, Failed
from callcenter_events.dedupe import RecentIds
from callcenter_events.envelope import Position
from callcenter_events.handling import handle
from callcenter_events.registry import REGISTRY, EventRegistry

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RawRecord:
    topic: str
    partition: int
    offset: int
    record: Record


@dataclass(slots=True)
class Reader:
    """Decodes raw records for one consumer; `types=None` reads every registered type."""

    types: frozenset[str] | None = None
    registry: EventRegistry = REGISTRY
    recent: RecentIds | None = None

    def __post_init__(self) -> None:
        if self.recent is None:
            self.recent = RecentIds()

    def read(self, records: Iterable[RawRecord]) -> tuple[Batch, list[Failed]]:
        batch = Batch([])
        failed: list[Failed] = []
        for raw in records:
            batch.next_offsets[(raw.topic, raw.partition)] = raw.offset + 1
            if self._skipped(raw.record):
                continue
            position = Position(raw.topic, raw.partition, raw.offset)
            try:
                envelope = decode(raw.record, self.registry, position)
            except MalformedEventError as exc:
                failed.append(Failed(raw.topic, raw.partition, raw.offset, raw.record, str(exc)))
                continue
            assert self.recent is not None
            if not self.recent.seen(envelope.id):
                batch.envelopes.append(envelope)
        return batch, failed

    def _skipped(self, record: Record) -> bool:
        if self.types is None:
            return False
        for key, value in record.headers:
            if key == "ce_type":
                if value is None:
                    return False  # the codec rejects it, with the reason
                name = value.decode("utf-8", errors="replace")
                return self.registry.is_known(name) and name not in self.types
        return False


async def dispatch(
    batch: Batch, failed: list[Failed], handler: BatchHandler, dead_letters: DeadLetters
) -> None:
    """Dead-letter the failures, then handle the batch; a failing batch is retried one by one."""
    for failure in failed:
        await dead_letters.send(failure)
    try:
        await handle(batch, handler)
    except TransientError:
        raise
    except Exception:
        log.exception("batch_failed_isolating", size=len(batch.envelopes))
        await _handle_one_by_one(batch, handler, dead_letters)


async def _handle_one_by_one(
    batch: Batch, handler: BatchHandler, dead_letters: DeadLetters
) -> None:
    for envelope in batch.envelopes:
        assert envelope.position is not None
        tp = (envelope.position.topic, envelope.position.partition)
        try:
            await handle(Batch([envelope], {tp: envelope.position.offset + 1}), handler)
        except TransientError:
            raise
        except Exception as exc:
            raw = encode(envelope)
            reason = f"handler failed on {envelope.type!r}: {exc!r}"
            pos = envelope.position
            await dead_letters.send(Failed(pos.topic, pos.partition, pos.offset, raw, reason))
    await handler(Batch([], batch.next_offsets))
