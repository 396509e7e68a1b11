"""Hypothesis strategies for fuzzing the event codec: valid events of every type, and poison.

- `envelopes()` / `records()`: valid envelopes (records) of every registered type, or of the
  types named, their data generated from the model's JSON schema and checked by the model,
  personal fields sealed.
- `poison()`: records a consumer can meet that are not events of this platform, with the
  reason `decode` gives: random bytes, truncated values, fields of the wrong JSON kind or
  missing, unknown or future schema versions, unknown types, broken headers, old versions of
  the wrong shape, non-finite numbers. Each kind has its own strategy (`POISON_KINDS`); all of
  them but the random ones are certain to be rejected.

Header values may be `None` (Kafka allows null header values): `poison_record` builds such a
`Record`. Hypothesis is a test dependency (it comes with schemathesis in the dev group).
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pydantic_core
from callcenter_events import REGISTRY, Envelope, Event, MalformedEventError, Record, decode
from callcenter_events.codec import REQUIRED_HEADERS, encode
from callcenter_events.envelope import PLATFORM_TENANT, SPEC_VERSION
from callcenter_events.personal import personal_fields
from callcenter_events.registry import EventSpec
from callcenter_events.testing import sealed
from hypothesis import strategies as st
from pydantic import ValidationError

Json = Any
Schema = dict[str, Any]
Draw = Callable[..., Any]

EVENT_TYPES: tuple[str, ...] = tuple(spec.event_type for spec in REGISTRY.specs())
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
"""Any text that can be written as UTF-8 (a lone surrogate cannot)."""
WORDS = st.text(string.ascii_letters + string.digits + "-_.:", min_size=1, max_size=16)
MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5))]),
)


def _json(numbers: st.SearchStrategy[float]) -> st.SearchStrategy[Json]:
    return st.recursive(
        st.none() | st.booleans() | st.integers() | numbers | TEXT,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
        max_leaves=12,
    )


finite_json = _json(st.floats(allow_nan=False, allow_infinity=False))
"""Any JSON value."""
json_values = _json(st.floats())
"""Any JSON value, or one with `NaN` or `Infinity` in it (written so by `json_bytes`: not JSON,
but some parsers, pydantic's among them, accept them)."""


# -- valid events -----------------------------------------------------------------------------


def _from_schema(schema: Schema, defs: dict[str, Schema]) -> st.SearchStrategy[Json]:
    """JSON data matching `schema` (the subset of JSON Schema that pydantic writes for events)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        special = _SPECIAL.get(name)
        return (
            special if special is not None else st.deferred(lambda: _from_schema(defs[name], defs))
        )
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([_from_schema(option, defs) for option in schema["anyOf"]])
    build = _BY_KIND.get(schema.get("type", "any"))
    if build is None:
        raise NotImplementedError(f"no strategy for schema {schema!r}")
    return build(schema, defs)


def _numbers(schema: Schema, _defs: dict[str, Schema]) -> st.SearchStrategy[float]:
    return st.floats(
        schema.get("minimum", schema.get("exclusiveMinimum")),
        schema.get("maximum"),
        exclude_min="exclusiveMinimum" in schema,
        allow_nan=False,
        allow_infinity=False,
    )


def _arrays(schema: Schema, defs: dict[str, Schema]) -> st.SearchStrategy[list[Json]]:
    return st.lists(
        _from_schema(schema.get("items", {}), defs),
        min_size=schema.get("minItems", 0),
        max_size=min(schema.get("maxItems", 3), 3),
    )


def _strings(schema: Schema, _defs: dict[str, Schema]) -> st.SearchStrategy[str]:
    if schema.get("format") == "date-time":
        return MOMENTS.map(datetime.isoformat)
    if schema.get("format") == "time":
        return st.times().map(lambda t: t.isoformat())
    if "pattern" in schema:
        return st.from_regex(str(schema["pattern"]), fullmatch=True)
    return st.text(
        st.characters(exclude_categories=["Cs"]),
        min_size=max(schema.get("minLength", 0), 1),
        max_size=min(schema.get("maxLength", 20), 20),
    )


def _objects(schema: Schema, defs: dict[str, Schema]) -> st.SearchStrategy[dict[str, Json]]:
    properties: dict[str, Schema] = schema.get("properties", {})
    if not properties:
        values = schema.get("additionalProperties", {})
        values = {} if values is True else values
        return st.dictionaries(WORDS, _from_schema(values, defs), max_size=3)
    required = set(schema.get("required", ()))
    fields = {
        name: _from_schema(sub, defs) if name in required else st.none() | _from_schema(sub, defs)
        for name, sub in properties.items()
    }

    @st.composite
    def build(draw: Draw) -> dict[str, Json]:
        drawn = {name: draw(strategy) for name, strategy in fields.items()}
        return {k: v for k, v in drawn.items() if k in required or v is not None}

    return build()


_BY_KIND: dict[str, Callable[[Schema, dict[str, Schema]], st.SearchStrategy[Any]]] = {
    "null": lambda _schema, _defs: st.none(),
    "boolean": lambda _schema, _defs: st.booleans(),
    "integer": lambda schema, _defs: st.integers(schema.get("minimum"), schema.get("maximum")),
    "number": _numbers,
    "string": _strings,
    "array": _arrays,
    "object": _objects,
    "any": lambda _schema, _defs: finite_json,
}


@st.composite
def _questions(draw: Draw) -> dict[str, Json]:
    """A survey question that its model's own rules accept (options and scale by type)."""
    kind = draw(st.sampled_from(["nps", "csat", "rating", "choice", "multi_choice", "yes_no"]))
    question: dict[str, Json] = {
        "id": draw(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)),
        "type": kind,
        "text": draw(WORDS),
        "required": draw(st.booleans()),
    }
    if kind in ("choice", "multi_choice"):
        question["options"] = draw(st.lists(WORDS, min_size=2, max_size=4, unique=True))
    if kind == "rating":
        low, high = sorted(
            draw(st.lists(st.integers(-100, 100), min_size=2, max_size=2, unique=True))
        )
        question["scale"] = {"min": low, "max": high}
    return question


@st.composite
def _windows(draw: Draw) -> dict[str, str]:
    start, end = sorted(
        draw(st.lists(st.integers(0, 23 * 60 + 59), min_size=2, max_size=2, unique=True))
    )
    return {"start": f"{start // 60:02}:{start % 60:02}", "end": f"{end // 60:02}:{end % 60:02}"}


_SPECIAL: dict[str, st.SearchStrategy[Json]] = {
    "Question": _questions(),
    "CallingWindow": _windows(),
}
"""Nested models whose validators join several fields: generated to satisfy them."""


def _valid(spec: EventSpec, data: dict[str, Json]) -> Event | None:
    try:
        return spec.model.model_validate(data)
    except ValidationError:
        return None


def _sealed_personal(event: Event, tenant_id: str) -> Event:
    """The codec refuses personal data in clear: every personal field set is sealed."""
    update = {
        name: sealed("+4930" + str(len(name)), name, tenant_id)[0]
        for name in personal_fields(type(event))
        if getattr(event, name) is not None
    }
    return event.model_copy(update=update) if update else event


@functools.cache
def _events_of(event_type: str) -> st.SearchStrategy[Event]:
    spec = REGISTRY.spec(event_type)
    schema = spec.model.model_json_schema()
    data = _objects(schema, schema.get("$defs", {}))
    valid = data.map(lambda d: _valid(spec, d)).filter(lambda e: e is not None)
    return cast(st.SearchStrategy[Event], valid).map(
        lambda e: _sealed_personal(e, str(getattr(e, "tenant_id", "acme")))
    )


def events(types: Sequence[str] = EVENT_TYPES) -> st.SearchStrategy[Event]:
    """Valid events of `types` (every registered type by default)."""
    return st.sampled_from(types).flatmap(_events_of)


@st.composite
def envelopes(draw: Draw, types: Sequence[str] = EVENT_TYPES) -> Envelope:
    """Valid envelopes of `types`: every attribute drawn, optional ones present or not."""
    event = draw(events(types))
    spec = REGISTRY.spec_of(event)
    optional = st.none() | WORDS
    return Envelope(
        id=draw(WORDS),
        source=draw(WORDS),
        type=spec.event_type,
        time=draw(MOMENTS),
        tenant_id=str(getattr(event, "tenant_id", None) or PLATFORM_TENANT),
        correlation_id=draw(WORDS),
        schema_version=spec.version,
        partition_key=str(getattr(event, spec.key_field)),
        data=event,
        causation_id=draw(optional),
        subject=draw(optional),
        data_subject=draw(optional),
    )


def records(types: Sequence[str] = EVENT_TYPES) -> st.SearchStrategy[Record]:
    """Valid records (encoded valid envelopes)."""
    return envelopes(types).map(encode)


# -- poison -----------------------------------------------------------------------------------

VALID_RECORDS = records()

Headers = list[tuple[str, bytes | None]]


def poison_record(key: bytes | None, value: bytes | None, headers: Headers) -> Record:
    """A record as a consumer may get it: header values may be null."""
    return Record(key, value, cast(Sequence[tuple[str, bytes]], headers))


def _replace_header(
    record: Record, name: str, value: bytes | None, *, drop: bool = False
) -> Record:
    headers: Headers = [(k, v) for k, v in record.headers if k != name]
    if not drop:
        headers.append((name, value))
    return poison_record(record.key, record.value, headers)


def _with_value(record: Record, value: bytes | None) -> Record:
    return Record(record.key, value, record.headers)


def json_bytes(data: Json) -> bytes:
    """As the services write JSON (integers beyond 64 bits too)."""
    return pydantic_core.to_json(data)


def _data(record: Record) -> dict[str, Json]:
    data: dict[str, Json] = pydantic_core.from_json(record.value or b"")
    return data


header_names = st.sampled_from([*REQUIRED_HEADERS, "ce_causationid", "content-type"]) | TEXT
random_headers: st.SearchStrategy[Headers] = st.lists(
    st.tuples(header_names, st.none() | st.binary(max_size=40)), max_size=12
)

random_records = st.builds(
    poison_record,
    st.none() | st.binary(max_size=40),
    st.none() | st.binary(max_size=200),
    random_headers,
)
"""Random key, value and headers."""

random_values = st.builds(_with_value, VALID_RECORDS, st.binary(max_size=200))
"""A valid event's headers over random bytes (rejected unless, by chance, they are valid)."""


@st.composite
def truncated_values(draw: Draw) -> Record:
    """A valid record whose value is cut short (a half-written event), or missing."""
    record = draw(VALID_RECORDS)
    value = record.value or b""
    cut = draw(st.none() | st.integers(0, len(value) - 1))
    return _with_value(record, None if cut is None else value[:cut])


def _kind(schema: Schema, defs: dict[str, Schema]) -> str | None:
    """The JSON kind a field takes (None: a union, or several)."""
    if "$ref" in schema:
        target = defs[schema["$ref"].rsplit("/", 1)[-1]]
        return "string" if "enum" in target else _kind(target, defs)
    if "anyOf" in schema:
        return None
    kind = schema.get("type")
    return {"integer": "number", "boolean": "boolean"}.get(kind, kind) if kind else None


_WRONG: dict[str, st.SearchStrategy[Json]] = {
    "string": st.none()
    | st.dictionaries(TEXT, json_values, max_size=3)
    | st.lists(json_values, max_size=3),
    "number": st.none()
    | st.dictionaries(TEXT, json_values, max_size=3)
    | st.lists(json_values, max_size=3),
    "boolean": st.none()
    | st.dictionaries(TEXT, json_values, max_size=3)
    | st.lists(json_values, max_size=3),
    "object": st.none() | st.booleans() | st.integers() | TEXT | st.lists(json_values, max_size=3),
    "array": st.none()
    | st.booleans()
    | st.integers()
    | TEXT
    | st.dictionaries(TEXT, json_values, max_size=3),
}
"""Per JSON kind of a field, values of a kind that its model never accepts."""


@st.composite
def wrong_types(draw: Draw) -> Record:
    """A valid record with one required field of the wrong JSON kind, or missing."""
    record = draw(VALID_RECORDS)
    spec = REGISTRY.spec(dict(record.headers)["ce_type"].decode())
    schema = spec.model.model_json_schema()
    defs = schema.get("$defs", {})
    required = [
        (name, kind)
        for name in schema.get("required", ())
        if (kind := _kind(schema["properties"][name], defs)) in _WRONG
    ]
    name, kind = draw(st.sampled_from(required))
    data = _data(record)
    if draw(st.booleans()):
        del data[name]
    else:
        data[name] = draw(_WRONG[kind])
    return _with_value(record, json_bytes(data))


@st.composite
def bad_versions(draw: Draw) -> Record:
    """A valid record whose schema version is in the future, below 1, or not a number."""
    record = draw(VALID_RECORDS)
    current = REGISTRY.spec(dict(record.headers)["ce_type"].decode()).version
    version = draw(
        st.integers(current + 1).map(str)
        | st.integers(max_value=0).map(str)
        | st.text(st.characters(exclude_categories=["Cs", "Nd"]), min_size=1).filter(
            lambda t: t.strip()
        )
    )
    return _replace_header(record, "ce_schemaversion", version.encode())


@st.composite
def unknown_types(draw: Draw) -> Record:
    """A valid record of a type no one registered."""
    record = draw(VALID_RECORDS)
    name = draw(TEXT.filter(lambda t: t and not REGISTRY.is_known(t)))
    return _replace_header(record, "ce_type", name.encode())


@st.composite
def broken_headers(draw: Draw, names: Sequence[str] = REQUIRED_HEADERS) -> Record:
    """A valid record with a required attribute (of `names`) missing, empty, null, not UTF-8
    or wrong."""
    record = draw(VALID_RECORDS)
    name = draw(st.sampled_from(names))
    how = draw(st.sampled_from(["drop", "empty", "null", "not utf-8", "wrong"]))
    if how == "drop":
        return _replace_header(record, name, None, drop=True)
    if how == "empty":
        return _replace_header(record, name, b"")
    if how == "null":
        return _replace_header(record, name, None)
    if how == "not utf-8":
        original = dict(record.headers)[name]
        return _replace_header(
            record, name, original + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"]))
        )
    wrong = {
        "ce_specversion": st.text(min_size=1).filter(lambda t: t != SPEC_VERSION),
        "ce_time": st.sampled_from(
            ["yesterday", "2026-03-01T09:30:00", "2026-13-01T00:00:00Z", "2026-03-01 25:00+00:00"]
        ),
        "ce_schemaversion": st.sampled_from(["two", "2.0", "v2", "0x2"]),
        "ce_type": st.sampled_from(["", " call.received", "call.received ", "CALL.RECEIVED"]),
    }
    if name not in wrong:
        return _replace_header(record, name, None, drop=True)
    text: str = draw(wrong[name])
    return _replace_header(record, name, text.encode(errors="surrogatepass"))


@st.composite
def old_shapes(draw: Draw) -> Record:
    """Version 1 of `call.received` (upcast on reading) whose data has the wrong shape."""
    record = _replace_header(draw(records(["call.received"])), "ce_schemaversion", b"1")
    data = draw(
        json_values.filter(lambda v: not isinstance(v, dict))
        | st.builds(
            lambda base, phone: {**base, "phone": phone},
            st.dictionaries(TEXT, json_values, max_size=4),
            st.dictionaries(TEXT, json_values, max_size=2)
            | st.lists(json_values, max_size=2)
            | st.integers(),
        )
    )
    return _with_value(record, json_bytes(data))


NON_FINITE = (b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1E999")
_MARK = "non-finite number here"
_NUMBER_FIELDS: dict[str, Callable[[dict[str, Json]], None]] = {
    "survey.answered": lambda data: data["answers"].__setitem__("q", _MARK),
    "customer.updated": lambda data: data["segment"].__setitem__("s", _MARK),
    "routing_policy.set": lambda data: data.__setitem__("offer_timeout_s", _MARK),
    "tenant.created": lambda data: data.__setitem__(
        "settings", {**data.get("settings", {}), "api_rate_limit_per_s": _MARK}
    ),
}
"""Where a number goes in events that hold one (in an open dict, in a field, in a nested model)."""


@st.composite
def non_finite_numbers(draw: Draw) -> Record:
    """A valid record with NaN, an infinity, or a number too large for a double in it."""
    record = draw(records(list(_NUMBER_FIELDS)))
    data = _data(record)
    _NUMBER_FIELDS[dict(record.headers)["ce_type"].decode()](data)
    literal = draw(st.sampled_from(NON_FINITE))
    return _with_value(record, json_bytes(data).replace(f'"{_MARK}"'.encode(), literal))


POISON_KINDS: dict[str, st.SearchStrategy[Record]] = {
    "random bytes": random_records,
    "random values": random_values,
    "truncated values": truncated_values(),
    "wrong types": wrong_types(),
    "bad versions": bad_versions(),
    "unknown types": unknown_types(),
    "broken headers": broken_headers(),
    "old shapes": old_shapes(),
    "non-finite numbers": non_finite_numbers(),
}


def rejection(record: Record) -> str | None:
    """Why `decode` rejects `record` (None: it is a valid event). Any other error propagates."""
    try:
        decode(record)
    except MalformedEventError as exc:
        return str(exc)
    return None


def poison() -> st.SearchStrategy[tuple[Record, str]]:
    """A record of any poison kind, with the reason `decode` gives for it."""
    return (
        st.one_of(list(POISON_KINDS.values()))
        .map(lambda record: (record, rejection(record)))
        .filter(lambda pair: pair[1] is not None)
        .map(lambda pair: (pair[0], cast(str, pair[1])))
    )
