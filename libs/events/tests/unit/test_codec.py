from __future__ import annotations

import orjson
import pytest
from callcenter_events import MalformedEventError, Record, decode, encode
from callcenter_events.codec import REQUIRED_HEADERS
from callcenter_events.testing import call_received


def _with_header(record: Record, name: str, value: bytes | None) -> Record:
    headers = [(k, v) for k, v in record.headers if k != name]
    if value is not None:
        headers.append((name, value))
    return Record(record.key, record.value, headers)


def test_round_trip_keeps_attributes_and_data() -> None:
    envelope = call_received()
    decoded = decode(encode(envelope))
    assert decoded == envelope


def test_binary_mode_headers_and_key() -> None:
    envelope = call_received(call_id="c-42")
    record = encode(envelope)
    headers = dict(record.headers)
    assert record.key == b"c-42"
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"call.received"
    assert headers["ce_tenantid"] == b"acme"
    assert headers["ce_schemaversion"] == b"2"
    assert headers["content-type"] == b"application/json"
    assert orjson.loads(record.value or b"")["call_id"] == "c-42"


def test_not_json_is_rejected_with_reason() -> None:
    record = encode(call_received())
    with pytest.raises(MalformedEventError, match="not JSON"):
        decode(Record(record.key, b"{not json", record.headers))


def test_unknown_type_is_rejected() -> None:
    record = _with_header(encode(call_received()), "ce_type", b"call.teleported")
    with pytest.raises(MalformedEventError, match=r"unknown event type 'call\.teleported'"):
        decode(record)


def test_missing_required_field_is_rejected() -> None:
    record = encode(call_received())
    data = orjson.loads(record.value or b"")
    del data["language"]
    with pytest.raises(MalformedEventError, match="language: Field required"):
        decode(Record(record.key, orjson.dumps(data), record.headers))


def test_future_schema_version_is_rejected() -> None:
    record = _with_header(encode(call_received()), "ce_schemaversion", b"99")
    with pytest.raises(MalformedEventError, match="unknown future schema version 99"):
        decode(record)


@pytest.mark.parametrize("name", REQUIRED_HEADERS)
def test_each_required_attribute_is_checked(name: str) -> None:
    record = _with_header(encode(call_received()), name, None)
    with pytest.raises(MalformedEventError, match=f"missing CloudEvents attribute.*{name}"):
        decode(record)


def test_time_without_offset_is_rejected() -> None:
    record = _with_header(encode(call_received()), "ce_time", b"2026-03-01T09:30:00")
    with pytest.raises(MalformedEventError, match="has no offset"):
        decode(record)


def test_non_object_data_of_old_version_is_rejected() -> None:
    record = _with_header(encode(call_received()), "ce_schemaversion", b"1")
    with pytest.raises(MalformedEventError, match="not a JSON object"):
        decode(Record(record.key, b"[1, 2]", record.headers))
