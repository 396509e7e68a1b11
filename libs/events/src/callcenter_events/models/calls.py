"""Call lifecycle events: what intake was told (calls topic) and what routing did (routing)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from callcenter_events.personal import PersonalStr
from callcenter_events.registry import REGISTRY, Event, JsonObject
from callcenter_events.topics import CALLS, ROUTING

SkillLevels = dict[str, int]


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


@REGISTRY.register("call.received", version=2, topic=CALLS, key="call_id", owner="intake")
class CallReceived(Event):
    """A call arrived at the call center (inbound) or was dialled for a campaign (outbound)."""

    call_id: str
    tenant_id: str
    direction: Direction = Direction.INBOUND
    caller_phone: PersonalStr | None = None
    customer_ref: PersonalStr | None = None
    language: str
    topic: str
    priority: int = Field(default=0, ge=0, le=10)
    required_skills: SkillLevels = Field(default_factory=dict)
    received_at: datetime


@REGISTRY.upcaster("call.received", from_version=1)
def _call_received_v1_to_v2(data: JsonObject) -> JsonObject:
    """Version 1 named the caller's number `phone` and knew no priority, skills or direction."""
    upgraded = {key: value for key, value in data.items() if key != "phone"}
    upgraded["caller_phone"] = data.get("phone")
    upgraded.setdefault("direction", Direction.INBOUND.value)
    upgraded.setdefault("priority", 0)
    upgraded.setdefault("required_skills", {})
    return upgraded


@REGISTRY.register("call.queued", version=1, topic=ROUTING, key="call_id", owner="routing")
class CallQueued(Event):
    """Routing accepted the call into the queue with these requirements."""

    call_id: str
    tenant_id: str
    priority: int = Field(ge=0, le=10)
    requirements: SkillLevels
    queued_at: datetime
    seq: int = Field(0, ge=0, description="Routing's running number of its facts")


class HangupBy(StrEnum):
    CALLER = "caller"
    AGENT = "agent"


class Outcome(StrEnum):
    """How an outbound call went."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"


@REGISTRY.register("call.abandoned", version=1, topic=CALLS, key="call_id", owner="intake")
class CallAbandoned(Event):
    """The call ended before it was connected to an agent."""

    call_id: str
    tenant_id: str
    by: HangupBy
    outcome: Outcome | None = None
    abandoned_at: datetime


@REGISTRY.register("call.ended", version=1, topic=CALLS, key="call_id", owner="intake")
class CallEnded(Event):
    """The conversation with the agent ended; wrap-up begins."""

    call_id: str
    tenant_id: str
    by: HangupBy
    outcome: Outcome | None = None
    ended_at: datetime


@REGISTRY.register("call.wrapped_up", version=1, topic=CALLS, key="call_id", owner="intake")
class CallWrappedUp(Event):
    """The agent finished the call's paperwork: its disposition and notes."""

    call_id: str
    tenant_id: str
    disposition: str
    notes: PersonalStr | None = None
    wrapped_up_at: datetime
