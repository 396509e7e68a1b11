"""What a simulation runs: agents and their skills, the call mix, the policy, the people.

Read from a JSON file (`--config`); flags on the command line override its top-level numbers.

    {
      "agents": [{"count": 8, "skills": {"lang:de": 5, "topic:billing": 7}, "capacity": 1}],
      "calls": [{"weight": 3, "language": "de", "topic": "billing", "priority": 0}],
      "policy": {"selection": "best_skill", "offer_timeout_s": 15,
                 "escalation": [{"after_s": 30, "drop_skills": ["topic:billing"]}]},
      "arrival_rate": 120, "aht_s": 240, "wrap_up_share": 0.15, "hours": 8,
      "patience_s": 90, "answer_delay_s": 2, "service_level_threshold_s": 20,
      "short_abandon_s": 5, "seed": 1
    }

Every agent gets the tenant skill `tenant:<tenant>` at level 5 unless the file says otherwise.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from routing.domain.model import EscalationStep, Policy, Selection

TENANT = "sim"


class AgentGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=100_000)
    skills: dict[str, int] = Field(default_factory=lambda: {"lang:de": 5, "topic:general": 5})
    capacity: int = Field(1, ge=1, le=10)


class CallMix(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weight: float = Field(1.0, gt=0)
    language: str = "de"
    topic: str = "general"
    priority: int = Field(0, ge=0, le=10)
    required_skills: dict[str, int] = Field(default_factory=dict)


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after_s: float = Field(ge=0)
    drop_skills: list[str] = Field(default_factory=list)
    min_levels: dict[str, int] = Field(default_factory=dict)


class PolicyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    selection: Selection = Selection.LONGEST_IDLE
    offer_timeout_s: float = Field(15.0, gt=0)
    escalation: list[Step] = Field(default_factory=list)
    wrap_up_limit_s: float = Field(120.0, ge=0)

    def policy(self) -> Policy:
        steps = tuple(
            EscalationStep(s.after_s, frozenset(s.drop_skills), dict(s.min_levels))
            for s in sorted(self.escalation, key=lambda step: step.after_s)
        )
        return Policy(self.selection, self.offer_timeout_s, steps, self.wrap_up_limit_s)


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agents: list[AgentGroup] = Field(default_factory=lambda: [AgentGroup(count=10)])
    calls: list[CallMix] = Field(default_factory=lambda: [CallMix()])
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    arrival_rate: float = Field(100.0, gt=0, description="calls per hour")
    aht_s: float = Field(180.0, gt=0, description="mean handle time: talk + wrap-up")
    wrap_up_share: float = Field(0.15, ge=0, lt=1, description="share of AHT spent in wrap-up")
    hours: float = Field(8.0, gt=0, le=10_000)
    patience_s: float | None = Field(
        120.0, gt=0, description="mean patience (exponential); null: nobody hangs up"
    )
    answer_delay_s: float = Field(2.0, ge=0, description="from offer to the agent's accept")
    service_level_threshold_s: float = Field(20.0, gt=0)
    short_abandon_s: float = Field(5.0, ge=0)
    seed: int = 1
