"""The request and answer bodies of intake's HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from callcenter_events.models import HangupBy, Outcome
from callcenter_service.fields import E164, LanguageTag, SkillName
from callcenter_service.fields import SkillLevel as Level
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]


class CallCreate(BaseModel):
    """An inbound call that arrived at the call center."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"caller_phone": "+4930123456", "language": "de", "topic": "billing"},
                {
                    "customer_ref": "crm-88121",
                    "language": "de-AT",
                    "topic": "outage",
                    "priority": 7,
                    "required_skills": {"vip": 3},
                },
            ]
        },
    )

    tenant_id: Name | None = Field(
        None, description="The tenant; a tenant's key implies its own, the operator names one"
    )
    caller_phone: E164 | None = Field(None, description="The caller's number in E.164")
    customer_ref: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    language: LanguageTag = Field(description="BCP 47 language tag, e.g. de or de-AT")
    topic: Name
    priority: int = Field(0, ge=0, le=10)
    required_skills: dict[SkillName, Level] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _caller_known(self) -> CallCreate:
        if self.caller_phone is None and self.customer_ref is None:
            raise ValueError("give caller_phone, customer_ref or both")
        return self


class Accepted(BaseModel):
    call_id: str
    position: str = Field(description="Log position of the event: topic:partition:offset")


class Hangup(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"by": "caller"}, {"by": "agent"}]}
    )

    by: HangupBy
    outcome: Outcome | None = Field(None, description="Outbound calls only")


class WrapUp(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"disposition": "resolved", "notes": "refund issued"}]},
    )

    disposition: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None


class Transition(BaseModel):
    call_id: str
    state: str
    position: str


class TimelineItem(BaseModel):
    type: str
    time: datetime


class CallView(BaseModel):
    call_id: str
    tenant_id: str
    direction: str
    state: str = Field(description="queued, offered, connected, wrap_up, completed, abandoned")
    agent_id: str | None
    topic: str
    language: str
    priority: int
    customer_ref: str | None = Field(description="null once the customer is erased")
    caller_phone: str | None = Field(None, description="null once the caller is erased")
    received_at: datetime
    timeline: list[TimelineItem]


class CallPage(BaseModel):
    calls: list[CallView]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end"
    )
