"""What the engine tells the world: offers with their reasons, and state changes (pure values)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from routing.domain.model import AgentStatus, Offer, Requirements, Selection


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


@dataclass(frozen=True, slots=True)
class AgentChanged:
    agent_id: str
    status: AgentStatus
    reason: str
    time: float


Effect = OfferMade | OfferEnded | CallEscalated | AgentChanged
