"""What routing did: offers and their outcomes, escalations, agents, policies (owner: routing).

Routing is the single writer of these facts. Each carries `seq`, the owner's running number of
the facts it recorded: the facts of one call are on the routing topic, of one agent on the
agents topic, a tenant's policy on the tenants topic, and a restarted routing merges them by
`seq` back into the order in which they happened, rebuilding its state without re-deciding.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from callcenter_events.registry import REGISTRY, Event
from callcenter_events.topics import AGENTS, ROUTING, TENANTS

SkillLevels = dict[str, int]
SEQ_DESCRIPTION = "Routing's running number of its facts: the order they happened in"


class RoutingFact(Event):
    seq: int = Field(0, ge=0, description=SEQ_DESCRIPTION)


class Selection(StrEnum):
    LONGEST_IDLE = "longest_idle"
    BEST_SKILL = "best_skill"


class CandidateRecord(BaseModel):
    """An agent a decision looked at: eligible with a score, or the reason why not."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    agent_id: str
    eligible: bool
    score: float | None = None
    reason: str


class OfferFact(RoutingFact):
    """What every fact about one offer names: the offer, its call, agent and deadline."""

    offer_id: str
    call_id: str
    tenant_id: str
    agent_id: str
    offered_at: datetime
    expires_at: datetime


@REGISTRY.register("call.offered", version=1, topic=ROUTING, key="call_id", owner="routing")
class CallOffered(OfferFact):
    """The call was offered to an agent: the decision with everything that explains it."""

    step: int = Field(ge=0, description="The escalation step in force (0: none)")
    requirements: SkillLevels = Field(description="What the call needed under that step")
    selection: Selection
    candidates: list[CandidateRecord]
    tie_break: str
    eligible_count: int = Field(ge=1)
    not_listed: int = Field(ge=0, description="Candidates looked at but not listed")


class OfferClosed(OfferFact):
    closed_at: datetime


@REGISTRY.register("call.connected", version=1, topic=ROUTING, key="call_id", owner="routing")
class CallConnected(OfferClosed):
    """The agent accepted the offer: the conversation begins."""


@REGISTRY.register("offer.rejected", version=1, topic=ROUTING, key="call_id", owner="routing")
class OfferRejected(OfferClosed):
    """The agent declined: the call goes back to its place, never to this agent again."""


@REGISTRY.register("offer.missed", version=1, topic=ROUTING, key="call_id", owner="routing")
class OfferMissed(OfferClosed):
    """Unanswered within the offer timeout: the agent goes away, the call back to its place."""


@REGISTRY.register("offer.withdrawn", version=1, topic=ROUTING, key="call_id", owner="routing")
class OfferWithdrawn(OfferClosed):
    """The caller hung up, or the agent vanished (heartbeat lost), while the offer was open."""


@REGISTRY.register("call.dequeued", version=1, topic=ROUTING, key="call_id", owner="routing")
class CallDequeued(RoutingFact):
    """The call left the queue unconnected (the caller hung up)."""

    call_id: str
    tenant_id: str
    reason: str
    dequeued_at: datetime


@REGISTRY.register("call.escalated", version=1, topic=ROUTING, key="call_id", owner="routing")
class CallEscalated(RoutingFact):
    """An escalation step began: the call's requirements are relaxed to these."""

    call_id: str
    tenant_id: str
    step: int = Field(ge=1)
    requirements: SkillLevels
    escalated_at: datetime


@REGISTRY.register("agent.updated", version=1, topic=AGENTS, key="agent_id", owner="routing")
class AgentUpdated(RoutingFact):
    """An agent's profile: name, skills with levels 1-10, concurrent calls."""

    agent_id: str
    name: str
    skills: SkillLevels
    capacity: int = Field(ge=1)
    updated_at: datetime


class AgentStatus(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    AWAY = "away"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"


class Presence(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    AWAY = "away"


class AgentChange(StrEnum):
    PRESENCE = "presence"
    CALL_ENDED = "call_ended"
    WRAPPED_UP = "wrapped_up"


@REGISTRY.register("agent.status_changed", version=1, topic=AGENTS, key="agent_id", owner="routing")
class AgentStatusChanged(RoutingFact):
    """The agent's status changed: their presence, or a call of theirs ended or was wrapped up."""

    agent_id: str
    status: AgentStatus
    presence: Presence
    change: AgentChange
    reason: str
    call_id: str | None = None
    changed_at: datetime


class EscalationStepRecord(BaseModel):
    model_config = ConfigDict(frozen=True, allow_inf_nan=False)

    after_s: float = Field(ge=0)
    drop_skills: list[str] = Field(default_factory=list)
    min_levels: SkillLevels = Field(default_factory=dict)


@REGISTRY.register("routing_policy.set", version=1, topic=TENANTS, key="tenant_id", owner="routing")
class RoutingPolicySet(RoutingFact):
    """How a tenant's calls are routed from now on."""

    tenant_id: str
    selection: Selection
    offer_timeout_s: float = Field(gt=0)
    escalation: list[EscalationStepRecord] = Field(default_factory=list)
    wrap_up_limit_s: float = Field(ge=0)
    set_at: datetime
