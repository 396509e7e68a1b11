"""The tables of the campaign projection (surveys' own database; see docs/campaigns.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callcenter_events.models import CampaignRules
from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel


class Campaign(SQLModel, table=True):
    __tablename__ = "surveys_campaigns"

    campaign_id: str = Field(primary_key=True)
    tenant_id: str = Field(index=True)
    name: str
    survey_id: str
    rules: dict[str, Any] = Field(sa_column=Column(JSON))
    created_at: datetime
    stopped_at: datetime | None = None

    def campaign_rules(self) -> CampaignRules:
        return CampaignRules.model_validate(self.rules)


class Person(SQLModel, table=True):
    """A customer as the dialer needs them; reference and number stay sealed."""

    __tablename__ = "surveys_campaign_people"

    tenant_id: str = Field(primary_key=True)
    subject_id: str = Field(primary_key=True)
    customer_ref: str | None = None
    phone: str | None = None
    phone_subject: str | None = Field(default=None, index=True)
    language: str = ""
    timezone: str = ""
    segment: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    consent_granted: bool | None = None
    consent_at: datetime | None = None
    consent_recorded_at: datetime | None = None
    consent_event_id: str | None = None
    erased: bool = False


class ErasedPerson(SQLModel, table=True):
    """A subject erased from the log: a replay that meets their facts after the erasure (another
    topic read first) keeps none of their data."""

    __tablename__ = "surveys_campaign_erased"

    subject_id: str = Field(primary_key=True)


class Target(SQLModel, table=True):
    __tablename__ = "surveys_campaign_targets"
    __table_args__ = (Index("ix_surveys_campaign_targets_order", "campaign_id", "seq"),)

    campaign_id: str = Field(primary_key=True)
    subject_id: str = Field(primary_key=True)
    tenant_id: str
    seq: int
    attempts: int = 0
    last_attempt_at: datetime | None = None
    calling_call_id: str | None = None
    reached: bool = False
    completed: bool = False


class OutboundCall(SQLModel, table=True):
    __tablename__ = "surveys_outbound_calls"
    __table_args__ = (Index("ix_surveys_outbound_calls_person", "tenant_id", "subject_id"),)

    call_id: str = Field(primary_key=True)
    tenant_id: str
    campaign_id: str | None = None
    subject_id: str | None = None
    language: str | None = None
    attempt: int | None = None
    requested_at: datetime | None = None
    connected: bool = False
    finished: bool = False
    reached: bool = False
    answered: bool = False


class CampaignAgent(SQLModel, table=True):
    __tablename__ = "surveys_campaign_agents"

    agent_id: str = Field(primary_key=True)
    skills: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON))
    capacity: int = 1
    presence: str = "offline"
    status: str = "offline"


class AgentCall(SQLModel, table=True):
    """A call an agent holds (offered or connected) until a fact closes it, in any order."""

    __tablename__ = "surveys_campaign_agent_calls"

    agent_id: str = Field(primary_key=True)
    call_id: str = Field(primary_key=True)
    closed: bool = False


CAMPAIGNS: Any = Campaign.__table__  # type: ignore[attr-defined]
PEOPLE: Any = Person.__table__  # type: ignore[attr-defined]
ERASED: Any = ErasedPerson.__table__  # type: ignore[attr-defined]
TARGETS: Any = Target.__table__  # type: ignore[attr-defined]
CALLS_TABLE: Any = OutboundCall.__table__  # type: ignore[attr-defined]
AGENTS_TABLE: Any = CampaignAgent.__table__  # type: ignore[attr-defined]
AGENT_CALLS: Any = AgentCall.__table__  # type: ignore[attr-defined]
