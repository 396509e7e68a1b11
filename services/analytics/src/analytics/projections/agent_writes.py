"""Writing an agent's status now and profile now: only a later fact replaces what is stored.

The status comes from two topics that instances may consume at once (the agents topic and the
routing topic are partitioned by different keys), so it is replaced by one guarded upsert that
the database decides atomically. A profile comes from the agents topic only, keyed by agent:
one writer per agent, so reading the stored stamps first is safe, and it lets a newer profile
replace the agent's whole skill set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from callcenter_events.models import AgentUpdated
from callcenter_events.store import as_utc, upsert
from sqlalchemy import Table, and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from analytics.projections.agent_fold import Stamp, profile_stamp

PROFILE = ["name", "capacity", "profile_at", "profile_seq"]


def write_statuses(session: Session, agents: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(agents)
    new = statement.excluded
    later = or_(
        agents.c.status_at.is_(None),
        new.status_at > agents.c.status_at,
        and_(new.status_at == agents.c.status_at, new.status_seq > agents.c.status_seq),
    )
    statement = statement.on_conflict_do_update(
        index_elements=["agent_id"],
        set_={name: new[name] for name in ("status", "status_at", "status_seq")},
        where=later,
    )
    session.execute(statement, [dict(row) for row in rows])


def write_profiles(
    session: Session, agents: Table, skills: Table, profiles: Mapping[str, AgentUpdated]
) -> None:
    stored = _stored_stamps(session, agents, list(profiles))
    newer = [p for a, p in profiles.items() if a not in stored or profile_stamp(p) > stored[a]]
    if not newer:
        return
    upsert(session, agents, [_profile_row(p) for p in newer], keys=["agent_id"], replace=PROFILE)
    session.execute(delete(skills).where(skills.c.agent_id.in_([p.agent_id for p in newer])))
    rows = [
        {"agent_id": p.agent_id, "skill": skill, "level": level}
        for p in newer
        for skill, level in p.skills.items()
    ]
    if rows:
        session.execute(skills.insert(), rows)


def _stored_stamps(session: Session, agents: Table, agent_ids: list[str]) -> dict[str, Stamp]:
    if not agent_ids:
        return {}
    found = session.execute(
        select(agents.c.agent_id, agents.c.profile_at, agents.c.profile_seq).where(
            agents.c.agent_id.in_(agent_ids), agents.c.profile_at.is_not(None)
        )
    )
    return {row.agent_id: (as_utc(row.profile_at), row.profile_seq) for row in found}


def _profile_row(profile: AgentUpdated) -> dict[str, Any]:
    at, seq = profile_stamp(profile)
    return {
        "agent_id": profile.agent_id,
        "name": profile.name,
        "capacity": profile.capacity,
        "profile_at": at,
        "profile_seq": seq,
    }
