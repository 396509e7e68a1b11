"""The routing domain's values: agents, waiting calls, offers, policies (pure, no I/O).

Times are seconds (floats) on whatever clock the caller passes in: the service passes Unix
time, the simulator its simulated clock. Nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# The event contract's values, used as they are (and offered to the domain's modules).
from callcenter_events.models.routing import AgentStatus, Presence, Selection

Requirements = dict[str, int]


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """After `after_s` of waiting: drop these skills, lower these minimum levels."""

    after_s: float
    drop_skills: frozenset[str] = frozenset()
    min_levels: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Policy:
    selection: Selection = Selection.LONGEST_IDLE
    offer_timeout_s: float = 15.0
    escalation: tuple[EscalationStep, ...] = ()
    wrap_up_limit_s: float = 120.0

    def __post_init__(self) -> None:
        times = [step.after_s for step in self.escalation]
        if times != sorted(times):
            raise ValueError("escalation steps must be ordered by `after_s`")


DEFAULT_POLICY = Policy()


@dataclass(slots=True)
class Offer:
    offer_id: str
    call_id: str
    tenant_id: str
    agent_id: str
    made_at: float
    expires_at: float


@dataclass(slots=True)
class Agent:
    agent_id: str
    name: str
    skills: dict[str, int]
    capacity: int = 1
    presence: Presence = Presence.OFFLINE
    idle_since: float = 0.0
    last_seen: float = 0.0
    connected: set[str] = field(default_factory=set)
    wrapping_up: dict[str, float] = field(default_factory=dict)  # call id -> wrap-up start
    offers: dict[str, Offer] = field(default_factory=dict)

    @property
    def load(self) -> int:
        """Calls held: offered, connected, or in wrap-up."""
        return len(self.offers) + len(self.connected) + len(self.wrapping_up)

    @property
    def status(self) -> AgentStatus:
        if self.connected:
            return AgentStatus.ON_CALL
        if self.wrapping_up:
            return AgentStatus.WRAP_UP
        return AgentStatus(self.presence.value)

    def can_take_more(self) -> bool:
        return self.presence is Presence.AVAILABLE and self.load < self.capacity


@dataclass(slots=True)
class WaitingCall:
    call_id: str
    tenant_id: str
    priority: int
    requirements: Requirements
    queued_at: float
    seq: int
    step: int = 0
    declined_by: set[str] = field(default_factory=set)
    offer: Offer | None = None


__all__ = [
    "DEFAULT_POLICY",
    "Agent",
    "AgentStatus",
    "EscalationStep",
    "Offer",
    "Policy",
    "Presence",
    "Requirements",
    "Selection",
    "WaitingCall",
]
