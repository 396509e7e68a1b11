"""What the engine tells the world: offers with their reasons, and state changes (pure values)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from routing.domain.model import AgentStatus, Offer, Policy, Presence, Requirements, Selection


@dataclass(frozen=True, slots=True)
class Candidate:
    """An agent the decision looked at: its score if eligible, else why not."""

    agent_id: str
    eligible: bool
    score: float | None
    reason: str


@dataclass(frozen=True, slots=True)
class Decision:
    """Why this agent: everything needed to answer the question afterwards."""

    time: float
    call_id: str
    tenant_id: str
    agent_id: str
    offer_id: str
    step: int
    requirements: Requirements
    selection: Selection
    candidates: tuple[Candidate, ...]
    tie_break: str
    eligible_count: int
    not_listed: int


@dataclass(frozen=True, slots=True)
class OfferMade:
    decision: Decision
    offer: Offer


OfferOutcome = Literal["accepted", "rejected", "missed", "withdrawn"]


@dataclass(frozen=True, slots=True)
class OfferEnded:
    offer: Offer
    outcome: OfferOutcome
    time: float


@dataclass(frozen=True, slots=True)
class CallEscalated:
    call_id: str
    tenant_id: str
    step: int
    requirements: Requirements
    time: float


AgentChange = Literal["presence", "call_ended", "wrapped_up"]


@dataclass(frozen=True, slots=True)
class AgentChanged:
    """The agent's status changed: its presence, or a call of theirs ended or was wrapped up."""

    agent_id: str
    status: AgentStatus
    reason: str
    time: float
    change: AgentChange = "presence"
    presence: Presence = Presence.OFFLINE
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class CallEnqueued:
    """A call joined the queue (its place: the order of these facts)."""

    call_id: str
    tenant_id: str
    priority: int
    requirements: Requirements
    time: float


@dataclass(frozen=True, slots=True)
class CallRemoved:
    """A call left the queue without being connected (the caller hung up)."""

    call_id: str
    tenant_id: str
    reason: str
    time: float


@dataclass(frozen=True, slots=True)
class AgentUpdated:
    agent_id: str
    name: str
    skills: dict[str, int]
    capacity: int
    time: float


@dataclass(frozen=True, slots=True)
class PolicySet:
    tenant_id: str
    policy: Policy
    time: float


Effect = (
    OfferMade
    | OfferEnded
    | CallEscalated
    | AgentChanged
    | CallEnqueued
    | CallRemoved
    | AgentUpdated
    | PolicySet
)
"""Everything the engine did, in order: folded with `Engine.restore` they rebuild its state."""
