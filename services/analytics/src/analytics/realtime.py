"""Queues now: waiting calls per queue, and the agents available for them and per skill.

- waiting = calls received (at or before now, within `WAITING_HORIZON`) and not connected,
  ended or abandoned yet; a queue is (tenant, direction, topic, language);
- longest_wait_s = now - the earliest `received_at` of the queue's waiting calls, 3 decimals;
- agents_available (of a queue) = agents whose status now is `available` and who hold the
  skills every call of the queue requires: `tenant:<id>`, `lang:<primary language>`, and
  `topic:<topic>` (inbound) or `campaign` (outbound), as routing derives them; explicit
  `required_skills` and escalation steps are not seen here;
- skills = per skill, the agents available holding it.

Agents serve many tenants: a tenant sees only agents holding its skill `tenant:<id>`, and of
their skills none naming another tenant.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from callcenter_events.store import as_utc
from sqlalchemy import Engine, func, select
from sqlalchemy.sql import Select

from analytics.call_path import CALLS, utc
from analytics.projections.agents import AGENT_SKILLS, AGENTS_NOW

WAITING_HORIZON = timedelta(hours=24)
"""A call received longer ago and still open lost its end (nobody waits a day): not waiting."""
TENANT_SKILL = "tenant:"
QUEUE_COLUMNS = (
    "tenant_id",
    "direction",
    "topic",
    "language",
    "waiting",
    "longest_wait_s",
    "agents_available",
)
SKILL_COLUMNS = ("skill", "agents_available")


@dataclass(frozen=True, slots=True)
class RealtimeQuery:
    now: datetime
    tenant_id: str | None


def realtime_report(engine: Engine, query: RealtimeQuery) -> dict[str, Any]:
    with engine.connect() as connection:
        queues = list(connection.execute(_waiting(query)))
        held = list(connection.execute(_available_skills()))
    skills = _skills_of_available(held, query.tenant_id)
    return {
        "queues": [_queue(row, query.now, skills) for row in queues],
        "skills": [
            {"skill": skill, "agents_available": n}
            for skill, n in sorted(Counter(s for held in skills.values() for s in held).items())
        ],
    }


def _waiting(query: RealtimeQuery) -> Select[Any]:
    now = utc(query.now)
    statement = (
        select(
            CALLS.c.tenant_id,
            CALLS.c.direction,
            CALLS.c.topic,
            CALLS.c.language,
            func.count().label("waiting"),
            func.min(CALLS.c.received_at).label("first_received_at"),
        )
        .where(
            CALLS.c.received_at <= now,
            CALLS.c.received_at > now - WAITING_HORIZON,
            CALLS.c.connected_at.is_(None),
            CALLS.c.ended_at.is_(None),
            CALLS.c.abandoned_at.is_(None),
        )
        .group_by(CALLS.c.tenant_id, CALLS.c.direction, CALLS.c.topic, CALLS.c.language)
        .order_by(CALLS.c.tenant_id, CALLS.c.direction, CALLS.c.topic, CALLS.c.language)
    )
    if query.tenant_id is not None:
        statement = statement.where(CALLS.c.tenant_id == query.tenant_id)
    return statement


def _available_skills() -> Select[Any]:
    return (
        select(AGENT_SKILLS.c.agent_id, AGENT_SKILLS.c.skill)
        .join(AGENTS_NOW, AGENTS_NOW.c.agent_id == AGENT_SKILLS.c.agent_id)
        .where(AGENTS_NOW.c.status == "available")
    )


def _skills_of_available(held: list[Any], tenant_id: str | None) -> dict[str, set[str]]:
    """Available agent -> skills, as far as the caller may see them."""
    skills: defaultdict[str, set[str]] = defaultdict(set)
    for row in held:
        skills[row.agent_id].add(row.skill)
    if tenant_id is None:
        return dict(skills)
    own = f"{TENANT_SKILL}{tenant_id}"
    return {
        agent: {s for s in held if s == own or not s.startswith(TENANT_SKILL)}
        for agent, held in skills.items()
        if own in held
    }


def requirements(tenant_id: str, direction: str, topic: str, language: str) -> set[str]:
    """The skills routing derives for every call of a queue, at level 1 (every level meets it)."""
    need = "campaign" if direction == "outbound" else f"topic:{topic}"
    primary = language.split("-", maxsplit=1)[0].lower()
    return {f"{TENANT_SKILL}{tenant_id}", f"lang:{primary}", need}


def _queue(row: Any, now: datetime, skills: dict[str, set[str]]) -> dict[str, Any]:
    need = requirements(row.tenant_id, row.direction, row.topic, row.language)
    wait = (now - as_utc(row.first_received_at)).total_seconds()
    return {
        "tenant_id": row.tenant_id,
        "direction": row.direction,
        "topic": row.topic,
        "language": row.language,
        "waiting": row.waiting,
        "longest_wait_s": round(max(wait, 0.0), 3),
        "agents_available": sum(1 for held in skills.values() if need <= held),
    }
