"""The CloudEvents 1.0 envelope around every event, and the log position of a written event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from callcenter_events.registry import REGISTRY, Event

SPEC_VERSION = "1.0"


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """Where an event sits in the log: topic, partition and offset."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"

    @classmethod
    def parse(cls, text: str) -> Position:
        topic, partition, offset = text.rsplit(":", 2)
        return cls(topic, int(partition), int(offset))


@dataclass(frozen=True, slots=True)
class Envelope:
    """One CloudEvent: the attributes, the extension attributes, and the typed data.

    Extension attributes: `tenantid`, `correlationid`, `causationid`, `schemaversion`
    and `datasubject`, the pseudonymous id of the person whose personal data the event carries
    sealed (CloudEvents names are lower-case letters and digits only). `partition_key` becomes the
    Kafka record key (the `partitionkey` extension of the Kafka protocol binding).
    `traceparent` and `tracestate` are the W3C trace context the event was read with (the
    producer writes it from the context of the write; see `callcenter_events.tracing`).
    """

    id: str
    source: str
    type: str
    time: datetime
    tenant_id: str
    correlation_id: str
    schema_version: int
    partition_key: str
    data: Event
    causation_id: str | None = None
    subject: str | None = None
    data_subject: str | None = None
    position: Position | None = None
    traceparent: str | None = field(default=None, compare=False)
    tracestate: str | None = field(default=None, compare=False)

    def at(self, position: Position) -> Envelope:
        return replace(self, position=position)


def new_event_id() -> str:
    return str(uuid.uuid4())


def derived_event_id(cause_id: str, event_type: str) -> str:
    """A deterministic id for the event that `cause_id` causes: a re-run emits the same id.

    A service that crashes after publishing but before committing its input publishes again on
    restart; the same id lets every consumer drop the repeat.
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{cause_id}/{event_type}"))


def utc_now() -> datetime:
    return datetime.now(UTC)


PLATFORM_TENANT = "*"
"""The tenant attribute of events that belong to no single tenant (agents serve many)."""


def wrap(
    event: Event,
    *,
    source: str,
    correlation_id: str,
    causation_id: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
    data_subject: str | None = None,
) -> Envelope:
    """Put an event into its envelope; the registry supplies type, version and partition key."""
    spec = REGISTRY.spec_of(event)
    return Envelope(
        id=event_id or new_event_id(),
        source=source,
        type=spec.event_type,
        time=time or utc_now(),
        tenant_id=str(getattr(event, "tenant_id", None) or PLATFORM_TENANT),
        correlation_id=correlation_id,
        schema_version=spec.version,
        partition_key=str(getattr(event, spec.key_field)),
        data=event,
        causation_id=causation_id,
        data_subject=data_subject,
    )
