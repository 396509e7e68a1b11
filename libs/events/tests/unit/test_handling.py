"""While a handler runs: its flow's correlation id is bound, and the events it causes carry the
cause's W3C trace context as children; records without trace headers (old history) still read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from callcenter_events import Batch, Envelope, decode, encode, wrap
from callcenter_events.bus import InMemoryBus
from callcenter_events.codec import Record
from callcenter_events.handling import correlation_id
from callcenter_events.models import CallQueued
from callcenter_events.testing import call_received

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"


def queued_by(cause: Envelope) -> Envelope:
    event = CallQueued(
        call_id="c-1", tenant_id="acme", priority=0, requirements={}, queued_at=datetime.now(UTC)
    )
    return wrap(event, source="/test", correlation_id=cause.correlation_id, causation_id=cause.id)


def traceparent(record: Record) -> tuple[str, str]:
    value = dict(record.headers)["traceparent"].decode()
    _version, trace_id, parent_id, _flags = value.split("-")
    return trace_id, parent_id


async def test_a_caused_event_is_a_child_of_its_cause_in_the_same_trace() -> None:
    bus = InMemoryBus()
    cause = call_received()
    traced = replace(cause, traceparent=f"00-{CALLER_TRACE}-{CALLER_SPAN}-01")
    topic = bus.topic_of(cause)
    bus.append(topic, encode(traced))
    flows: list[str] = []

    async def handler(batch: Batch) -> None:
        for envelope in batch.envelopes:
            flows.append(correlation_id.get())
            await bus.publish(queued_by(envelope))

    await bus.deliver(handler, group="g", topics=[topic], reader=None)

    assert flows == [cause.correlation_id]
    assert correlation_id.get() == "", "unbound once handled"
    [queued] = bus._records[bus.topic_of(queued_by(cause))]
    trace_id, parent_id = traceparent(queued)
    assert trace_id == CALLER_TRACE
    assert parent_id not in (CALLER_SPAN, "0" * 16)


async def test_an_event_nothing_traced_caused_starts_a_new_trace() -> None:
    bus = InMemoryBus()
    await bus.publish(call_received("c-1"))
    await bus.publish(call_received("c-2"))
    first, second = (traceparent(r) for r in bus._records[bus.topic_of(call_received())])
    assert first[0] != second[0]
    assert int(first[0], 16) != 0


def test_records_without_or_with_broken_trace_headers_still_read() -> None:
    record = encode(call_received())
    old = Record(record.key, record.value, [h for h in record.headers if h[0] != "traceparent"])
    assert decode(old).traceparent is None
    broken = Record(record.key, record.value, [*old.headers, ("traceparent", b"\xff\xfe")])
    assert decode(broken).traceparent is None
    odd = Record(record.key, record.value, [*old.headers, ("traceparent", b"not-a-trace")])
    assert decode(odd) == decode(old)
