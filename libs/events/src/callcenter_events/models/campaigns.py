"""Outbound survey campaigns, the calls they request, and post-call survey invitations.

Owned by surveys, on the surveys topic (keyed by tenant, so one tenant's campaigns, customers
and requests stay in order). A campaign's rules are fixed when it is created. Every outbound
call is requested by an `outbound_call.requested` fact that records why it was lawful at that
moment (the consent statement in force, the customer's local time); intake turns it into the
call (`call.received`, direction outbound) that routing offers to an agent with the skill
`campaign`.
"""

from __future__ import annotations

from datetime import datetime, time

from pydantic import BaseModel, ConfigDict, Field, model_validator

from callcenter_events.models.customers import SegmentValue
from callcenter_events.personal import PersonalStr
from callcenter_events.registry import REGISTRY, Event
from callcenter_events.topics import SURVEYS


class CallingWindow(BaseModel):
    """When calls may be placed, in the customer's own local time (start inclusive, end not)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: time = Field(description='"HH:MM" local time')
    end: time = Field(description='"HH:MM" local time, after `start`')

    @model_validator(mode="after")
    def _ordered(self) -> CallingWindow:
        if self.start >= self.end:
            raise ValueError("window.start must be before window.end (same day)")
        return self


class CampaignRules(BaseModel):
    """Whom to call, when, and how often."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    audience: dict[str, SegmentValue] = Field(
        description="Segment attribute: value, or a list of accepted values; all must match"
    )
    window: CallingWindow
    max_attempts: int = Field(ge=1, le=10, description="Calls per customer, answered or not")
    retry_after_s: int = Field(ge=60, le=30 * 86400, description="Wait after a failed attempt")
    rest_days: int = Field(
        ge=0, le=365, description="No call if another campaign called the person this recently"
    )


@REGISTRY.register("campaign.created", version=1, topic=SURVEYS, key="tenant_id", owner="surveys")
class CampaignCreated(Event):
    """A campaign: a survey asked by phone of the customers its audience selects."""

    campaign_id: str
    tenant_id: str
    name: str
    survey_id: str
    rules: CampaignRules
    created_at: datetime


@REGISTRY.register("campaign.stopped", version=1, topic=SURVEYS, key="tenant_id", owner="surveys")
class CampaignStopped(Event):
    """No further calls for the campaign; calls already placed run to their end."""

    campaign_id: str
    tenant_id: str
    reason: str
    stopped_at: datetime


@REGISTRY.register(
    "outbound_call.requested", version=1, topic=SURVEYS, key="tenant_id", owner="surveys"
)
class OutboundCallRequested(Event):
    """The dialer asks for a call to a customer, with the evidence that it is allowed now."""

    call_id: str
    tenant_id: str
    campaign_id: str
    customer_ref: PersonalStr
    phone: PersonalStr
    language: str
    attempt: int = Field(ge=1)
    consent_event_id: str = Field(description="The consent statement in force")
    local_time: str = Field(description="The customer's local time, ISO 8601 with offset")
    timezone: str
    requested_at: datetime


@REGISTRY.register("survey.invited", version=1, topic=SURVEYS, key="tenant_id", owner="surveys")
class SurveyInvited(Event):
    """A completed inbound call invites its caller to the tenant's post-call survey."""

    invitation_id: str
    tenant_id: str
    survey_id: str
    version: int = Field(ge=1)
    call_id: str
    invited_at: datetime
