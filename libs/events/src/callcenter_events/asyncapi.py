"""AsyncAPI 3.0 documents of the events, generated from the registry (never written by hand).

`python -m callcenter_events.asyncapi > docs/asyncapi.json` writes the platform's document;
each service serves its own (what it sends and receives) at `/asyncapi.json`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import orjson

from callcenter_events.codec import REQUIRED_HEADERS
from callcenter_events.registry import REGISTRY, EventRegistry, EventSpec

Document = dict[str, Any]


def asyncapi_document(
    *,
    title: str = "Call center platform events",
    sends: Iterable[str] | None = None,
    receives: Iterable[str] = (),
    registry: EventRegistry = REGISTRY,
) -> Document:
    """The document for the types a service `sends` (all, if None) and `receives`."""
    specs = registry.specs()
    sent = {s.event_type for s in specs} if sends is None else set(sends)
    received = set(receives)
    used = [s for s in specs if s.event_type in sent | received]
    operations = {
        f"send {s.event_type}": _operation("send", s) for s in used if s.event_type in sent
    }
    operations |= {
        f"receive {s.event_type}": _operation("receive", s)
        for s in used
        if s.event_type in received
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": title,
            "version": "1",
            "description": "CloudEvents 1.0 in Kafka binary content mode; see docs/events.md.",
        },
        "defaultContentType": "application/json",
        "channels": _channels(used),
        "operations": operations,
        "components": {"messages": {_message_id(s): _message(s) for s in used}},
    }


def _channels(specs: list[EventSpec]) -> Document:
    channels: Document = {}
    for spec in specs:
        channel = channels.setdefault(
            spec.topic.base_name,
            {
                "address": spec.topic.base_name,
                "description": f"Partition key {spec.topic.partition_key}: {spec.topic.ordering}",
                "messages": {},
            },
        )
        channel["messages"][_message_id(spec)] = {
            "$ref": f"#/components/messages/{_message_id(spec)}"
        }
    return channels


def _operation(action: str, spec: EventSpec) -> Document:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{spec.topic.base_name}"},
        "messages": [{"$ref": f"#/channels/{spec.topic.base_name}/messages/{_message_id(spec)}"}],
    }


def _message_id(spec: EventSpec) -> str:
    return spec.event_type.replace(".", "_")


def _message(spec: EventSpec) -> Document:
    headers = {name: {"type": "string"} for name in REQUIRED_HEADERS}
    headers["ce_type"] = {"type": "string", "const": spec.event_type}
    headers["ce_schemaversion"] = {"type": "string", "const": str(spec.version)}
    headers["ce_causationid"] = {"type": "string"}
    headers["traceparent"] = {"type": "string", "description": "W3C Trace Context"}
    headers["tracestate"] = {"type": "string", "description": "W3C Trace Context vendor state"}
    return {
        "name": spec.event_type,
        "title": spec.model.__name__,
        "summary": (spec.model.__doc__ or "").strip().splitlines()[0],
        "x-owner": spec.owner,
        "x-schema-version": spec.version,
        "headers": {"type": "object", "properties": headers, "required": list(REQUIRED_HEADERS)},
        "payload": spec.model.model_json_schema(),
        "bindings": {"kafka": {"key": {"type": "string", "description": spec.key_field}}},
    }


def render(document: Document) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


if __name__ == "__main__":
    sys.stdout.buffer.write(render(asyncapi_document()))
