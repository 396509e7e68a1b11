from __future__ import annotations

import orjson
import pytest
from callcenter_events import REGISTRY, Record, decode, encode
from callcenter_events.models import CallReceived, Direction
from callcenter_events.personal import personal_fields
from callcenter_events.registry import Event, EventRegistry
from callcenter_events.testing import call_received
from callcenter_events.topics import CALLS

V1_DATA = {
    "call_id": "c-old",
    "tenant_id": "acme",
    "phone": "+4930999",
    "language": "fr",
    "topic": "returns",
    "received_at": "2025-01-02T03:04:05+00:00",
}


def _v1_record() -> Record:
    headers = [(k, v) for k, v in encode(call_received()).headers if k != "ce_schemaversion"]
    return Record(b"c-old", orjson.dumps(V1_DATA), [*headers, ("ce_schemaversion", b"1")])


def test_version_1_call_received_is_read_as_the_current_version() -> None:
    envelope = decode(_v1_record())
    call = envelope.data
    assert isinstance(call, CallReceived)
    assert envelope.schema_version == REGISTRY.spec("call.received").version == 2
    assert call.caller_phone == "+4930999"
    assert call.direction is Direction.INBOUND
    assert call.priority == 0
    assert call.required_skills == {}


def test_every_type_has_one_owner_topic_and_key() -> None:
    for spec in REGISTRY.specs():
        assert spec.owner in {"intake", "routing", "surveys", "analytics"}
        assert spec.key_field in spec.model.model_fields


def test_registering_a_type_twice_fails() -> None:
    registry = EventRegistry()

    class First(Event):
        call_id: str

    class Second(Event):
        call_id: str

    registry.register("x.happened", version=1, topic=CALLS, key="call_id", owner="intake")(First)
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("x.happened", version=1, topic=CALLS, key="call_id", owner="intake")(
            Second
        )


def test_missing_upcaster_is_reported() -> None:
    registry = EventRegistry()

    class Thing(Event):
        thing_id: str

    registry.register("thing.made", version=3, topic=CALLS, key="thing_id", owner="intake")(Thing)
    registry.upcaster("thing.made", from_version=2)(lambda data: data)
    with pytest.raises(ValueError, match="no upcaster from version 1"):
        registry.upcast("thing.made", 1, {"thing_id": "t"})


def test_personal_fields_are_marked() -> None:
    assert personal_fields(CallReceived) == {"caller_phone", "customer_ref"}
