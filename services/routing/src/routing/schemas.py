"""The request and answer bodies of routing's HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from callcenter_service.fields import SkillLevel, SkillName
from pydantic import BaseModel, ConfigDict, Field, model_validator

from routing.domain.model import AgentStatus, Selection


class AgentProfile(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Ada Berg",
                    "skills": {"lang:de": 8, "lang:en": 5, "topic:billing": 7, "tenant:acme": 1},
                    "capacity": 1,
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    skills: dict[SkillName, SkillLevel] = Field(max_length=200)
    capacity: int = Field(1, ge=1, le=20, description="Calls at once (offers, talks, wrap-ups)")


class AgentWritten(BaseModel):
    agent_id: str
    position: str


class StatusChange(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"status": "available"}]}
    )

    status: Literal["available", "away", "offline"]


class StatusWritten(BaseModel):
    agent_id: str
    status: AgentStatus = Field(description="As shown: `on_call` or `wrap_up` win over presence")
    position: str | None = Field(None, description="None when nothing changed")


class OfferView(BaseModel):
    offer_id: str
    call_id: str
    tenant_id: str
    expires_at: datetime


class AgentView(BaseModel):
    agent_id: str
    name: str
    status: AgentStatus
    skills: dict[str, int]
    capacity: int
    idle_since: datetime | None = Field(None, description="Free since (when available)")
    offers: list[OfferView]
    calls: list[str] = Field(description="Calls connected or in wrap-up")


class AgentPage(BaseModel):
    agents: list[AgentView]
    next_cursor: str | None = None


class OfferAnswered(BaseModel):
    offer_id: str
    call_id: str
    position: str


class EscalationStepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after_s: float = Field(ge=0, le=86_400, description="Seconds of waiting before it applies")
    drop_skills: list[SkillName] = Field(default_factory=list, max_length=50)
    min_levels: dict[SkillName, SkillLevel] = Field(default_factory=dict, max_length=50)


class RoutingPolicyIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "selection": "best_skill",
                    "offer_timeout_s": 15,
                    "escalation": [
                        {"after_s": 30, "min_levels": {"lang:de": 1}},
                        {"after_s": 90, "drop_skills": ["topic:billing"]},
                    ],
                }
            ]
        },
    )

    selection: Selection = Selection.LONGEST_IDLE
    offer_timeout_s: float = Field(15.0, ge=1, le=600)
    escalation: list[EscalationStepIn] = Field(default_factory=list, max_length=20)
    wrap_up_limit_s: float | None = Field(
        None, ge=0, le=3600, description="Default: the tenant's `wrap_up_limit_s` setting"
    )

    @model_validator(mode="after")
    def _steps_in_order(self) -> RoutingPolicyIn:
        times = [step.after_s for step in self.escalation]
        if times != sorted(times):
            raise ValueError("escalation steps must be ordered by `after_s`")
        return self


class RoutingPolicyView(BaseModel):
    tenant_id: str
    selection: Selection
    offer_timeout_s: float
    escalation: list[EscalationStepIn]
    wrap_up_limit_s: float
    position: str | None = None


class QueueView(BaseModel):
    tenant_id: str
    topic: str | None
    language: str | None
    waiting: int = Field(description="Calls not yet connected (waiting or being offered)")
    offered: int = Field(description="Of those, how many have an open offer")
    longest_wait_s: float
    agents_available: int = Field(description="Free agents who meet the queue's base needs")


class Queues(BaseModel):
    queues: list[QueueView]


class CandidateView(BaseModel):
    agent_id: str
    eligible: bool
    score: float | None
    reason: str


class DecisionView(BaseModel):
    time: datetime
    offer_id: str
    agent_id: str
    step: int = Field(description="The escalation step in force (0: none)")
    requirements: dict[str, int]
    selection: Selection
    candidates: list[CandidateView]
    tie_break: str
    eligible_count: int
    not_listed: int
    outcome: Literal["accepted", "rejected", "missed", "withdrawn"] | None = Field(
        None, description="None while the offer is open"
    )
    closed_at: datetime | None = None


class CallRouting(BaseModel):
    call_id: str
    tenant_id: str
    queued_at: datetime
    decisions: list[DecisionView]
