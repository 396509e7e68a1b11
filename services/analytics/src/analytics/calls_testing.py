"""For tests of the calls projection and report: the events of a call, as the services write them.

`call_events(CallSpec(...))` gives intake's, routing's and (for a campaign call) surveys' facts
of one call with the given waits and durations; personal fields carry the values given (sealed
ones where the events go through the codec).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from callcenter_events import Envelope, wrap
from callcenter_events.models import (
    CallAbandoned,
    CallConnected,
    CallEnded,
    CallOffered,
    CallQueued,
    CallReceived,
    CallWrappedUp,
    Direction,
    HangupBy,
    OutboundCallRequested,
    Outcome,
    Selection,
)

ROUTING_MS = timedelta(milliseconds=3)


@dataclass(frozen=True, slots=True)
class CallSpec:
    """A call: connected after `wait` or abandoned after `abandon`; talk and wrap-up after."""

    call_id: str
    tenant_id: str
    received_at: datetime
    subject: str | None = None
    topic: str = "billing"
    language: str = "de"
    direction: Direction = Direction.INBOUND
    wait: timedelta | None = None
    abandon: timedelta | None = None
    talk: timedelta | None = None
    wrap_up: timedelta | None = None
    agent_id: str = "agent-1"
    step: int = 0
    campaign_id: str | None = None
    customer_ref: str = "customer"
    phone: str = "phone"

    @property
    def connected_at(self) -> datetime | None:
        return None if self.wait is None else self.received_at + self.wait

    @property
    def ended_at(self) -> datetime | None:
        connected = self.connected_at
        return None if connected is None or self.talk is None else connected + self.talk

    @property
    def wrapped_up_at(self) -> datetime | None:
        ended = self.ended_at
        return None if ended is None or self.wrap_up is None else ended + self.wrap_up


def call_events(spec: CallSpec) -> list[Envelope]:
    """The call's events in the order they happen (the campaign's request first)."""
    events = [*_requested(spec), _received(spec), _queued(spec)]
    if spec.connected_at is not None:
        events += _offered_and_connected(spec, spec.connected_at)
    elif spec.abandon is not None:
        events.append(_abandoned(spec, spec.received_at + spec.abandon))
    if spec.ended_at is not None:
        events.append(_event(spec, CallEnded, by=HangupBy.CALLER, ended_at=spec.ended_at))
    if spec.wrapped_up_at is not None:
        events.append(
            _event(spec, CallWrappedUp, disposition="done", wrapped_up_at=spec.wrapped_up_at)
        )
    return events


def _event(spec: CallSpec, model: Any, subject: str | None = None, **fields: Any) -> Envelope:
    event = model(call_id=spec.call_id, tenant_id=spec.tenant_id, **fields)
    return wrap(event, source="/test", correlation_id=spec.call_id, data_subject=subject)


def _requested(spec: CallSpec) -> list[Envelope]:
    if spec.campaign_id is None:
        return []
    request = _event(
        spec,
        OutboundCallRequested,
        spec.subject,
        campaign_id=spec.campaign_id,
        customer_ref=spec.customer_ref,
        phone=spec.phone,
        language=spec.language,
        attempt=1,
        consent_event_id="consent",
        local_time=spec.received_at.isoformat(),
        timezone="UTC",
        requested_at=spec.received_at - ROUTING_MS,
    )
    return [request]


def _received(spec: CallSpec) -> Envelope:
    return _event(
        spec,
        CallReceived,
        spec.subject,
        direction=spec.direction,
        customer_ref=spec.customer_ref,
        language=spec.language,
        topic=spec.topic,
        received_at=spec.received_at,
    )


def _queued(spec: CallSpec) -> Envelope:
    at = spec.received_at + ROUTING_MS
    return _event(spec, CallQueued, priority=0, requirements={}, queued_at=at)


def _offered_and_connected(spec: CallSpec, connected_at: datetime) -> list[Envelope]:
    offer: dict[str, Any] = {
        "offer_id": f"{spec.call_id}-offer",
        "agent_id": spec.agent_id,
        "offered_at": connected_at - ROUTING_MS,
        "expires_at": connected_at + timedelta(seconds=15),
    }
    decision: dict[str, Any] = {
        "requirements": {},
        "selection": Selection.LONGEST_IDLE,
        "candidates": [],
        "tie_break": "longest_idle",
        "eligible_count": 1,
        "not_listed": 0,
    }
    return [
        _event(spec, CallOffered, step=spec.step, **offer, **decision),
        _event(spec, CallConnected, closed_at=connected_at, **offer),
    ]


def _abandoned(spec: CallSpec, at: datetime) -> Envelope:
    if spec.direction is Direction.OUTBOUND:
        return _event(
            spec, CallAbandoned, by=HangupBy.AGENT, outcome=Outcome.NO_ANSWER, abandoned_at=at
        )
    return _event(spec, CallAbandoned, by=HangupBy.CALLER, abandoned_at=at)
