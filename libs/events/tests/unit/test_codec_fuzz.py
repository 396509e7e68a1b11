"""Property-based fuzz of the codec and the upcasters (hypothesis).

Valid events of every registered type round-trip. Everything else a consumer can meet on a
topic (random bytes, a half-written value, a field of the wrong kind, an unknown or future
schema version, an unknown type, broken headers, an old version of the wrong shape) is
rejected by `decode` with `MalformedEventError` and a reason: never another exception, never
an envelope that is not a valid event. The counts of inputs tried are in the test summary.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

import pytest
from callcenter_events import REGISTRY, Envelope, MalformedEventError, Record, decode, encode
from callcenter_events.codec import REQUIRED_HEADERS
from callcenter_events.models import CallReceived, Direction
from callcenter_events.reading import RawRecord, Reader
from callcenter_events.tracing import TRACEPARENT, TRACESTATE
from callcenter_testkit import eventfuzz
from callcenter_testkit.tally import count
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _tried(n: int = 1) -> None:
    count("fuzz", "codec inputs tried", n)


def _rejected(record: Record) -> str:
    """The reason `decode` gives; fails if it accepts the record or raises anything else."""
    _tried()
    with pytest.raises(MalformedEventError) as rejected:
        decode(record)
    reason = str(rejected.value)
    assert reason.strip(), "a rejection without a reason"
    return reason


def _rejected_or_sound(record: Record) -> None:
    """Either rejected with a reason, or a valid event of a known type that round-trips."""
    _tried()
    reason = eventfuzz.rejection(record)
    if reason is not None:
        assert reason.strip(), "a rejection without a reason"
        return
    envelope = decode(record)
    spec = REGISTRY.spec(envelope.type)
    assert isinstance(envelope.data, spec.model)
    assert envelope.schema_version == spec.version
    assert decode(encode(envelope)) == envelope


@pytest.mark.parametrize("event_type", eventfuzz.EVENT_TYPES)
@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_valid_events_of_every_type_round_trip(event_type: str, data: st.DataObject) -> None:
    envelope: Envelope = data.draw(eventfuzz.envelopes([event_type]))
    _tried()
    assert decode(encode(envelope)) == envelope


@FUZZ
@given(eventfuzz.envelopes(), st.randoms(use_true_random=False))
def test_header_order_does_not_matter(envelope: Envelope, rng: random.Random) -> None:
    record = encode(envelope)
    headers = list(record.headers)
    rng.shuffle(headers)
    _tried()
    assert decode(Record(record.key, record.value, headers)) == envelope


@FUZZ
@given(eventfuzz.random_records)
def test_random_records_are_rejected(record: Record) -> None:
    _rejected_or_sound(record)


@FUZZ
@given(eventfuzz.random_values)
def test_random_bytes_under_valid_headers_are_rejected(record: Record) -> None:
    _rejected_or_sound(record)


@FUZZ
@given(eventfuzz.truncated_values())
def test_a_truncated_or_missing_value_is_rejected(record: Record) -> None:
    reason = _rejected(record)
    assert "not JSON" in reason or "has no value" in reason, reason


@FUZZ
@given(eventfuzz.wrong_types())
def test_a_field_of_the_wrong_kind_or_missing_is_rejected(record: Record) -> None:
    assert "invalid data for" in _rejected(record)


@FUZZ
@given(eventfuzz.bad_versions())
def test_unknown_future_or_invalid_schema_versions_are_rejected(record: Record) -> None:
    assert "schema version" in _rejected(record)


@FUZZ
@given(eventfuzz.unknown_types())
def test_unknown_types_are_rejected(record: Record) -> None:
    assert "unknown event type" in _rejected(record)


@pytest.mark.parametrize("name", REQUIRED_HEADERS)
@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_broken_required_headers_are_rejected(name: str, data: st.DataObject) -> None:
    _rejected(data.draw(eventfuzz.broken_headers([name])))


@FUZZ
@given(
    eventfuzz.envelopes(),
    st.sampled_from([TRACEPARENT, TRACESTATE]),
    st.none() | st.binary(max_size=60),
)
def test_a_broken_trace_context_loses_the_trace_not_the_event(
    envelope: Envelope, name: str, value: bytes | None
) -> None:
    record = encode(envelope)
    headers = [*record.headers, (name, value)]
    _tried()
    decoded = decode(eventfuzz.poison_record(record.key, record.value, headers))
    assert decoded == envelope


@FUZZ
@given(eventfuzz.non_finite_numbers())
def test_non_finite_numbers_are_rejected(record: Record) -> None:
    """JSON has no NaN or infinity; once read, such an event could not be written again."""
    assert "invalid data for" in _rejected(record)


# -- upcasting ----------------------------------------------------------------------------------


def _v1(envelope: Envelope) -> Record:
    """`call.received` as version 1 wrote it: `phone`, no direction, priority or skills."""
    record = encode(envelope)
    data = envelope.data.model_dump(mode="json")
    data["phone"] = data.pop("caller_phone")
    for field in ("direction", "priority", "required_skills"):
        del data[field]
    headers = [(k, b"1" if k == "ce_schemaversion" else v) for k, v in record.headers]
    return Record(record.key, eventfuzz.json_bytes(data), headers)


@FUZZ
@given(eventfuzz.envelopes(["call.received"]))
def test_version_1_of_call_received_is_upcast(envelope: Envelope) -> None:
    data = envelope.data
    assert isinstance(data, CallReceived)
    as_v1_knew = data.model_copy(
        update={"direction": Direction.INBOUND, "priority": 0, "required_skills": {}}
    )
    expected = dataclasses.replace(envelope, data=as_v1_knew)
    _tried()
    decoded = decode(_v1(expected))
    assert decoded == expected
    assert decoded.schema_version == REGISTRY.spec("call.received").version


@FUZZ
@given(eventfuzz.old_shapes())
def test_an_old_version_of_the_wrong_shape_is_rejected(record: Record) -> None:
    reason = _rejected(record)
    expected = ("not a JSON object", "not JSON", "invalid data for 'call.received'")
    assert any(fragment in reason for fragment in expected), reason


@FUZZ
@given(eventfuzz.envelopes(["call.received"]), eventfuzz.json_values)
def test_any_old_data_is_upcast_to_a_valid_event_or_rejected(
    envelope: Envelope, data: object
) -> None:
    record = encode(envelope)
    headers = [(k, b"1" if k == "ce_schemaversion" else v) for k, v in record.headers]
    value = eventfuzz.json_bytes(data)
    _rejected_or_sound(Record(record.key, value, headers))


# -- the reader a consumer uses ------------------------------------------------------------------


READ_TYPES = frozenset(eventfuzz.EVENT_TYPES[::2])


@pytest.mark.parametrize("types", [None, READ_TYPES], ids=["every type", "some types"])
@settings(FUZZ, max_examples=60)  # up to 12 records each
@given(
    drawn=st.lists(
        st.tuples(st.booleans(), eventfuzz.envelopes(), eventfuzz.poison()),
        min_size=1,
        max_size=12,
    )
)
def test_the_reader_sets_aside_every_poison_record_and_keeps_the_valid_ones_in_order(
    types: frozenset[str] | None,
    drawn: Sequence[tuple[bool, Envelope, tuple[Record, str]]],
) -> None:
    raw: list[RawRecord] = []
    valid_ids: list[str] = []
    reasons: dict[int, str] = {}
    for offset, (is_valid, envelope, (poison, reason)) in enumerate(drawn):
        if is_valid:
            unique = dataclasses.replace(envelope, id=f"e-{offset}")
            raw.append(RawRecord("t", 0, offset, encode(unique)))
            if types is None or unique.type in types:
                valid_ids.append(unique.id)
        else:
            raw.append(RawRecord("t", 0, offset, poison))
            reasons[offset] = reason
    _tried(len(raw))

    batch, failed = Reader(types=types).read(raw)

    assert [e.id for e in batch.envelopes] == valid_ids
    assert batch.next_offsets == {("t", 0): len(raw)}
    set_aside = {f.offset: f.reason for f in failed}
    for offset, reason in reasons.items():
        if offset in set_aside:
            assert set_aside[offset] == reason
        else:  # skipped unread: it names a type this reader does not read
            assert types is not None
            named = {v for k, v in raw[offset].record.headers if k == "ce_type" and v}
            assert any(REGISTRY.is_known(n.decode(errors="replace")) for n in named), offset
    assert set(set_aside) <= set(reasons)
