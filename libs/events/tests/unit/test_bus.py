from __future__ import annotations

from callcenter_events import Batch, Record
from callcenter_events.bus import InMemoryBus
from callcenter_events.testing import call_received


async def test_published_events_are_delivered_once_per_group() -> None:
    bus = InMemoryBus(topic_prefix="x.")
    position = await bus.publish(call_received("c-1"))
    seen: list[str] = []

    async def handler(batch: Batch) -> None:
        seen.extend(e.id for e in batch.envelopes)

    assert position.topic == "x.callcenter.calls.v1"
    assert await bus.deliver(handler, group="g", topics=[position.topic], reader=None) == 1
    assert await bus.deliver(handler, group="g", topics=[position.topic], reader=None) == 0
    assert len(seen) == 1


async def test_malformed_records_reach_the_dead_letters() -> None:
    bus = InMemoryBus()
    bus.append("callcenter.calls.v1", Record(b"k", b"nope", []))

    async def handler(_batch: Batch) -> None:
        return None

    await bus.deliver(handler, group="g", topics=["callcenter.calls.v1"], reader=None)
    assert [f.reason for f in bus.dead_letters.failed] == [
        "missing CloudEvents attribute(s): ce_specversion, ce_id, ce_source, ce_type, ce_time, "
        "ce_tenantid, ce_correlationid, ce_schemaversion"
    ]
