"""Agents: their profile and skills now, their status now, and the timeline of their statuses.

Routing records an agent's status changes on the agents topic, except the start of a call: an
accepted offer (`call.connected`, on the routing topic) puts the agent on the call. So the
timeline merges both topics, ordered by time and routing's running number `seq`. The topics
are read independently, in any order: the timeline is a set of rows keyed by (agent, time,
seq), and the status now is replaced only by a later change (a guarded upsert), so a batch's
effect does not depend on the order the topics arrive in nor on redelivery.
"""

from __future__ import annotations

from collections.abc import Sequence

from callcenter_events import Envelope
from callcenter_events.store import insert_new
from callcenter_events.topics import AGENTS, ROUTING, Topic
from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Table
from sqlmodel import Session

from analytics.projection import METADATA, Tables
from analytics.projections.agent_fold import AgentFold
from analytics.projections.agent_writes import write_profiles, write_statuses

AGENTS_NOW = Table(
    "analytics_agents",
    METADATA,
    Column("agent_id", String, primary_key=True),
    Column("name", String),
    Column("capacity", Integer),
    Column("profile_at", DateTime(timezone=True)),
    Column("profile_seq", BigInteger),
    Column("status", String),
    Column("status_at", DateTime(timezone=True)),
    Column("status_seq", BigInteger),
)
AGENT_SKILLS = Table(
    "analytics_agent_skills",
    METADATA,
    Column("agent_id", String, primary_key=True),
    Column("skill", String, primary_key=True),
    Column("level", Integer, nullable=False),
)
AGENT_STATUS = Table(
    "analytics_agent_status",
    METADATA,
    Column("agent_id", String, primary_key=True),
    Column("changed_at", DateTime(timezone=True), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("status", String, nullable=False),
    Column("change", String, nullable=False),
    Column("call_id", String),
    Index("ix_analytics_agent_status_changed_at", "changed_at"),
)


class AgentsProjection:
    name: str = "agents"
    version: int = 1
    types: frozenset[str] = frozenset({"agent.updated", "agent.status_changed", "call.connected"})
    topics: tuple[Topic, ...] = (AGENTS, ROUTING)
    tables: tuple[Table, ...] = (AGENTS_NOW, AGENT_SKILLS, AGENT_STATUS)

    def apply(self, session: Session, envelopes: Sequence[Envelope], tables: Tables) -> None:
        fold = AgentFold.of(envelopes)
        insert_new(session, tables[AGENT_STATUS.name], fold.timeline_rows())
        write_statuses(session, tables[AGENTS_NOW.name], fold.status_rows())
        write_profiles(session, tables[AGENTS_NOW.name], tables[AGENT_SKILLS.name], fold.profiles)
