"""Builders of valid events for tests (of this library and of the services)."""

from __future__ import annotations

from datetime import UTC, datetime

from callcenter_events import Envelope, wrap
from callcenter_events.models import CallReceived

RECEIVED_AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def call_received(call_id: str = "c-1", tenant_id: str = "acme", **changes: object) -> Envelope:
    fields: dict[str, object] = {
        "call_id": call_id,
        "tenant_id": tenant_id,
        "caller_phone": "+493012345678",
        "language": "de",
        "topic": "billing",
        "received_at": RECEIVED_AT,
    }
    event = CallReceived.model_validate(fields | changes)
    return wrap(event, source="/test", correlation_id=f"corr-{call_id}")
