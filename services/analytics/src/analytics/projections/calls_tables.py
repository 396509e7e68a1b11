"""The tables of the calls projection, under their stable names (a schema for BI tools too).

`analytics_calls` holds one row per call: the facts of its life, each column set by the first
event that knows it and never changed after (so any order of arrival, and any redelivery, ends
in the same row). Durations and KPIs are derived when they are read, never stored.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Index, Integer, String, Table

from analytics.projection import METADATA


def _moment(name: str) -> Column[object]:
    return Column(name, DateTime(timezone=True))


CALLS = Table(
    "analytics_calls",
    METADATA,
    Column("call_id", String, primary_key=True),
    Column("tenant_id", String, nullable=False),
    Column("direction", String),
    Column("topic", String),
    Column("language", String),
    Column("priority", Integer),
    Column("data_subject", String),
    Column("campaign_id", String),
    _moment("received_at"),
    _moment("queued_at"),
    _moment("connected_at"),
    Column("offer_id", String),
    Column("agent_id", String),
    Column("step", Integer),
    _moment("ended_at"),
    _moment("abandoned_at"),
    Column("hangup_by", String),
    Column("outcome", String),
    _moment("wrapped_up_at"),
    Column("disposition", String),
    Index("ix_analytics_calls_received_at", "received_at"),
    Index("ix_analytics_calls_repeat", "data_subject", "topic", "received_at"),
)

CALL_OFFERS = Table(
    "analytics_call_offers",
    METADATA,
    Column("offer_id", String, primary_key=True),
    Column("call_id", String, nullable=False),
    Column("tenant_id", String, nullable=False),
    Column("agent_id", String, nullable=False),
    Column("step", Integer, nullable=False),
    _moment("offered_at"),
)
"""Every offer of a call to an agent; the connected one gives the call its `step`."""

TENANT_THRESHOLDS = Table(
    "analytics_tenant_thresholds",
    METADATA,
    Column("tenant_id", String, primary_key=True),
    Column("effective_at", DateTime(timezone=True), primary_key=True),
    Column("service_level_threshold_s", Integer, nullable=False),
    Column("short_abandon_s", Integer, nullable=False),
)
"""A tenant's KPI thresholds, each set from the moment it took effect until the next."""

CUSTOMER_SEGMENTS = Table(
    "analytics_customer_segments",
    METADATA,
    Column("data_subject", String, primary_key=True),
    Column("tenant_id", String, nullable=False),
    Column("segment", JSON, nullable=False),
    _moment("updated_at"),
)
"""A known customer's latest segment attributes (target group), by pseudonymous subject."""
