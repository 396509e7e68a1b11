"""CloudEvents on Kafka in binary content mode, with orjson for the data.

Binary mode: the attributes travel as record headers (`ce_id`, `ce_type`, ...), the record value
is the event data as JSON, and the record key is the partition key. Consumers that only care
about some types can skip the others by reading one header instead of parsing a document, and
the value is the plain data that Kafka tools and BI loaders show as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson
import pydantic_core
from pydantic import ValidationError

from callcenter_events.envelope import SPEC_VERSION, Envelope, Position
from callcenter_events.personal import personal_fields
from callcenter_events.privacy.sealing import is_sealed
from callcenter_events.registry import (
    REGISTRY,
    Event,
    EventRegistry,
    UnknownEventTypeError,
    UnsupportedSchemaVersionError,
)
from callcenter_events.tracing import TRACE_HEADERS, TRACEPARENT, TRACESTATE

Headers = Sequence[tuple[str, bytes]]
CONTENT_TYPE: Final = "application/json"
REQUIRED_HEADERS: Final = (
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_tenantid",
    "ce_correlationid",
    "ce_schemaversion",
)


class MalformedEventError(ValueError):
    """A record that cannot be read as an event of this platform; the message is the reason."""


class UnsealedPersonalDataError(ValueError):
    """An event about to be written carries personal data in clear (seal it with the vault)."""


@dataclass(frozen=True, slots=True)
class Record:
    """What goes to (and comes from) Kafka for one event."""

    key: bytes | None
    value: bytes | None
    headers: Headers


def encode(envelope: Envelope, trace: Headers = ()) -> Record:
    """The record of `envelope`; `trace`: the trace headers to write if it carries none."""
    headers: list[tuple[str, bytes]] = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", envelope.id.encode()),
        ("ce_source", envelope.source.encode()),
        ("ce_type", envelope.type.encode()),
        ("ce_time", envelope.time.isoformat().encode()),
        ("ce_tenantid", envelope.tenant_id.encode()),
        ("ce_correlationid", envelope.correlation_id.encode()),
        ("ce_schemaversion", str(envelope.schema_version).encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    if envelope.causation_id:
        headers.append(("ce_causationid", envelope.causation_id.encode()))
    if envelope.subject:
        headers.append(("ce_subject", envelope.subject.encode()))
    if envelope.data_subject:
        headers.append(("ce_datasubject", envelope.data_subject.encode()))
    if envelope.traceparent:
        headers.append((TRACEPARENT, envelope.traceparent.encode()))
        if envelope.tracestate:
            headers.append((TRACESTATE, envelope.tracestate.encode()))
    else:
        headers += trace
    _ensure_sealed(envelope)
    value = pydantic_core.to_json(envelope.data)
    return Record(envelope.partition_key.encode(), value, headers)


def _ensure_sealed(envelope: Envelope) -> None:
    """The log is kept forever: personal data goes into it sealed, or not at all."""
    clear = sorted(
        name
        for name in personal_fields(type(envelope.data))
        if (value := getattr(envelope.data, name)) is not None and not is_sealed(value)
    )
    if clear:
        raise UnsealedPersonalDataError(
            f"{envelope.type}: personal field(s) not sealed: {', '.join(clear)}"
        )


def decode(
    record: Record, registry: EventRegistry = REGISTRY, position: Position | None = None
) -> Envelope:
    """Read a record as an envelope with typed data (at `position`, where it was read from);
    `MalformedEventError` says why it cannot."""
    attrs = _attributes(record.headers)
    if attrs["ce_specversion"] != SPEC_VERSION:
        raise MalformedEventError(f"unsupported specversion {attrs['ce_specversion']!r}")
    event_type = attrs["ce_type"]
    version = _schema_version(attrs["ce_schemaversion"])
    data = _data(record.value, event_type, version, registry)
    return Envelope(
        id=attrs["ce_id"],
        source=attrs["ce_source"],
        type=event_type,
        time=_time(attrs["ce_time"]),
        tenant_id=attrs["ce_tenantid"],
        correlation_id=attrs["ce_correlationid"],
        schema_version=type(data).schema_version,
        partition_key=(record.key or b"").decode("utf-8", errors="replace"),
        data=data,
        causation_id=attrs.get("ce_causationid"),
        subject=attrs.get("ce_subject"),
        data_subject=attrs.get("ce_datasubject"),
        position=position,
        traceparent=attrs.get(TRACEPARENT),
        tracestate=attrs.get(TRACESTATE),
    )


def _attributes(headers: Headers) -> dict[str, str]:
    try:  # every header UTF-8 text: the usual case, in one pass
        attrs = {name: raw.decode("utf-8") for name, raw in headers}
    except (UnicodeDecodeError, AttributeError):
        attrs = _readable_attributes(headers)
    missing = [name for name in REQUIRED_HEADERS if not attrs.get(name)]
    if missing:
        raise MalformedEventError(f"missing CloudEvents attribute(s): {', '.join(missing)}")
    return attrs


def _readable_attributes(headers: Headers) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for name, raw in headers:
        try:
            attrs[name] = raw.decode("utf-8")
        except (UnicodeDecodeError, AttributeError):
            if name in TRACE_HEADERS:
                continue  # a broken trace context loses the trace, not the event
            raise MalformedEventError(f"header {name!r} is not UTF-8 text") from None
    return attrs


def _schema_version(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise MalformedEventError(f"schema version {text!r} is not an integer") from None


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedEventError(f"time {text!r} is not RFC 3339") from None
    if moment.tzinfo is None:
        raise MalformedEventError(f"time {text!r} has no offset")
    return moment


def _data(value: bytes | None, event_type: str, version: int, registry: EventRegistry) -> Event:
    try:
        spec = registry.spec(event_type)
        if value is None:
            raise MalformedEventError(f"{event_type!r} record has no value")
        model: type[Event] = spec.model
        if version == spec.version:
            return model.model_validate_json(value)
        raw = orjson.loads(value)
        if not isinstance(raw, dict):
            raise MalformedEventError(f"data of {event_type!r} is not a JSON object")
        return model.model_validate(_upcast(registry, event_type, version, raw))
    except (UnknownEventTypeError, UnsupportedSchemaVersionError) as exc:
        raise MalformedEventError(str(exc)) from None
    except orjson.JSONDecodeError as exc:
        raise MalformedEventError(f"value is not JSON: {exc}") from None
    except ValidationError as exc:
        raise MalformedEventError(_validation_reason(event_type, exc)) from None


def _upcast(
    registry: EventRegistry, event_type: str, version: int, raw: dict[str, Any]
) -> dict[str, Any]:
    try:
        return registry.upcast(event_type, version, raw)
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedEventError(
            f"version {version} of {event_type!r} cannot be upcast: {exc!r}"
        ) from None


def _validation_reason(event_type: str, exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    if errors and errors[0]["type"] == "json_invalid":
        return f"value is not JSON: {errors[0]['msg']}"
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in errors[:5]
    )
    return f"invalid data for {event_type!r}: {problems}"
