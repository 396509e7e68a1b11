"""One batch of call facts folded in memory: a row per call, offer, threshold set and customer.

A replay batch holds up to a thousand events of a few hundred calls, from four topics in any
relative order; folding first leaves one bulk write per table. Within the batch, as in the
table, a call's column keeps the first value any event gave it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from callcenter_events import Envelope
from callcenter_events.models import (
    CallAbandoned,
    CallConnected,
    CallEnded,
    CallOffered,
    CallQueued,
    CallReceived,
    CallWrappedUp,
    CustomerUpdated,
    OutboundCallRequested,
    TenantCreated,
    TenantSettingsChanged,
)

Row = dict[str, Any]


def _received(envelope: Envelope) -> Row:
    event: CallReceived = envelope.data  # type: ignore[assignment]
    return {
        "direction": event.direction.value,
        "topic": event.topic,
        "language": event.language,
        "priority": event.priority,
        "data_subject": envelope.data_subject,
        "received_at": event.received_at,
    }


def _requested(envelope: Envelope) -> Row:
    event: OutboundCallRequested = envelope.data  # type: ignore[assignment]
    return {"campaign_id": event.campaign_id, "data_subject": envelope.data_subject}


def _queued(envelope: Envelope) -> Row:
    event: CallQueued = envelope.data  # type: ignore[assignment]
    return {"queued_at": event.queued_at}


def _connected(envelope: Envelope) -> Row:
    event: CallConnected = envelope.data  # type: ignore[assignment]
    return {"connected_at": event.closed_at, "offer_id": event.offer_id, "agent_id": event.agent_id}


def _ended(envelope: Envelope) -> Row:
    event: CallEnded = envelope.data  # type: ignore[assignment]
    outcome = event.outcome.value if event.outcome else None
    return {"ended_at": event.ended_at, "hangup_by": event.by.value, "outcome": outcome}


def _abandoned(envelope: Envelope) -> Row:
    event: CallAbandoned = envelope.data  # type: ignore[assignment]
    outcome = event.outcome.value if event.outcome else None
    return {"abandoned_at": event.abandoned_at, "hangup_by": event.by.value, "outcome": outcome}


def _wrapped_up(envelope: Envelope) -> Row:
    event: CallWrappedUp = envelope.data  # type: ignore[assignment]
    return {"wrapped_up_at": event.wrapped_up_at, "disposition": event.disposition}


CALL_FACTS: dict[str, Callable[[Envelope], Row]] = {
    "call.received": _received,
    "outbound_call.requested": _requested,
    "call.queued": _queued,
    "call.connected": _connected,
    "call.ended": _ended,
    "call.abandoned": _abandoned,
    "call.wrapped_up": _wrapped_up,
}
"""What each event type tells about its call (every one also names the call and tenant)."""


@dataclass(slots=True)
class CallsFold:
    calls: dict[str, Row] = field(default_factory=dict)
    offers: dict[str, Row] = field(default_factory=dict)
    thresholds: dict[tuple[str, Any], Row] = field(default_factory=dict)
    segments: dict[str, Row] = field(default_factory=dict)

    @classmethod
    def of(cls, envelopes: Sequence[Envelope]) -> CallsFold:
        fold = cls()
        for envelope in envelopes:
            fold.add(envelope)
        fold.match_offers()
        return fold

    def add(self, envelope: Envelope) -> None:
        facts = CALL_FACTS.get(envelope.type)
        if facts is not None:
            call: Any = envelope.data
            self._call(call.call_id, call.tenant_id, facts(envelope))
        elif isinstance(envelope.data, CallOffered):
            self._offer(envelope.data)
        elif isinstance(envelope.data, TenantCreated | TenantSettingsChanged):
            self._thresholds(envelope.data)
        elif isinstance(envelope.data, CustomerUpdated) and envelope.data_subject:
            self._segment(envelope.data_subject, envelope.data)

    def match_offers(self) -> None:
        """A call connected in this batch takes the step of its offer, if offered here too."""
        for row in self.calls.values():
            offer = self.offers.get(row["offer_id"]) if "offer_id" in row else None
            if offer is not None:
                row.setdefault("step", offer["step"])

    def unresolved_steps(self) -> list[str]:
        """Calls whose step may now be found in the offers table: connected here without their
        offer, or offered here without their connection (which an earlier batch may hold)."""
        connected = [c for c, row in self.calls.items() if "offer_id" in row and "step" not in row]
        offered = {o["call_id"] for o in self.offers.values()}
        return connected + [c for c in offered if "step" not in self.calls.get(c, ())]

    def _call(self, call_id: str, tenant_id: str, facts: Row) -> None:
        """A call's row holds the columns known so far (the first value of each)."""
        row = self.calls.get(call_id)
        if row is None:
            row = self.calls[call_id] = {"call_id": call_id, "tenant_id": tenant_id}
        for name, value in facts.items():
            if value is not None and name not in row:
                row[name] = value

    def _offer(self, event: CallOffered) -> None:
        self.offers.setdefault(
            event.offer_id,
            {
                "offer_id": event.offer_id,
                "call_id": event.call_id,
                "tenant_id": event.tenant_id,
                "agent_id": event.agent_id,
                "step": event.step,
                "offered_at": event.offered_at,
            },
        )

    def _thresholds(self, event: TenantCreated | TenantSettingsChanged) -> None:
        at = event.created_at if isinstance(event, TenantCreated) else event.changed_at
        self.thresholds.setdefault(
            (event.tenant_id, at),
            {
                "tenant_id": event.tenant_id,
                "effective_at": at,
                "service_level_threshold_s": event.settings.service_level_threshold_s,
                "short_abandon_s": event.settings.short_abandon_s,
            },
        )

    def _segment(self, subject: str, event: CustomerUpdated) -> None:
        known = self.segments.get(subject)
        if known is None or event.updated_at > known["updated_at"]:
            self.segments[subject] = {
                "data_subject": subject,
                "tenant_id": event.tenant_id,
                "segment": orjson.dumps(event.segment, option=orjson.OPT_SORT_KEYS).decode(),
                "updated_at": event.updated_at,
            }
