from __future__ import annotations

import pytest
from callcenter_events import Batch, Record, TransientError, encode
from callcenter_events.bus import InMemoryDeadLetters
from callcenter_events.dedupe import RecentIds
from callcenter_events.reading import RawRecord, Reader, dispatch
from callcenter_events.testing import call_received


def _raw(offset: int, record: Record, topic: str = "calls") -> RawRecord:
    return RawRecord(topic, 0, offset, record)


def test_duplicates_by_event_id_are_dropped() -> None:
    record = encode(call_received("c-1"))
    batch, failed = Reader().read([_raw(0, record), _raw(1, record)])
    assert [e.position.offset for e in batch.envelopes if e.position] == [0]
    assert batch.next_offsets == {("calls", 0): 2}
    assert failed == []


def test_types_not_read_are_skipped_but_counted_in_positions() -> None:
    reader = Reader(types=frozenset({"call.queued"}))
    batch, failed = reader.read([_raw(5, encode(call_received()))])
    assert batch.envelopes == []
    assert batch.next_offsets == {("calls", 0): 6}
    assert failed == []


def test_malformed_records_are_reported_with_reason() -> None:
    good = encode(call_received("c-1"))
    bad = Record(b"k", b"\x00garbage", good.headers)
    batch, failed = Reader().read([_raw(0, bad), _raw(1, good)])
    assert len(batch.envelopes) == 1
    assert [(f.offset, "not JSON" in f.reason) for f in failed] == [(0, True)]


def test_recent_ids_forget_the_oldest_beyond_capacity() -> None:
    recent = RecentIds(capacity=2)
    assert [recent.seen(x) for x in ("a", "b", "a", "c", "a")] == [False, False, True, False, True]
    assert not recent.seen("b")
    assert len(recent) == 2


async def test_a_failing_event_is_isolated_and_dead_lettered() -> None:
    records = [_raw(i, encode(call_received(f"c-{i}"))) for i in range(3)]
    batch, failed = Reader().read(records)
    handled: list[str] = []
    stored_offsets: list[dict[tuple[str, int], int]] = []

    async def handler(b: Batch) -> None:
        ids = [e.data.call_id for e in b.envelopes]  # type: ignore[attr-defined]
        if "c-1" in ids:
            raise RuntimeError("boom")
        handled.extend(ids)
        stored_offsets.append(b.next_offsets)

    dead = InMemoryDeadLetters()
    await dispatch(batch, failed, handler, dead)
    assert handled == ["c-0", "c-2"]
    assert [(f.offset, "boom" in f.reason) for f in dead.failed] == [(1, True)]
    assert stored_offsets[-1] == {("calls", 0): 3}


async def test_transient_errors_are_not_dead_lettered() -> None:
    batch, failed = Reader().read([_raw(0, encode(call_received()))])

    async def handler(_b: Batch) -> None:
        raise TransientError("db away")

    dead = InMemoryDeadLetters()
    with pytest.raises(TransientError):
        await dispatch(batch, failed, handler, dead)
    assert dead.failed == []
