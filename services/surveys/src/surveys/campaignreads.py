"""What the dialer and the campaign API read from the campaign projection's tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callcenter_events.store import as_utc
from sqlalchemy import Engine, and_, func
from sqlalchemy import select as sa_select
from sqlmodel import Session

from surveys.campaigntables import (
    AGENT_CALLS,
    AGENTS_TABLE,
    CALLS_TABLE,
    CAMPAIGNS,
    PEOPLE,
    TARGETS,
    Campaign,
    OutboundCall,
)
from surveys.dialing.eligibility import Consent, Target
from surveys.dialing.pacing import AgentView, Line, language_of


@dataclass(frozen=True, slots=True)
class Reachable:
    """A target the dialer may call, with what the call request needs (sealed values)."""

    subject_id: str
    customer_ref: str
    phone: str
    language: str
    timezone: str
    attempts: int
    consent_event_id: str
    seq: int


@dataclass(frozen=True, slots=True)
class Judged:
    target: Target
    line: Line
    reachable: Reachable | None


def running_campaigns(engine: Engine) -> list[Campaign]:
    with Session(engine) as session:
        statement = sa_select(CAMPAIGNS).where(CAMPAIGNS.c.stopped_at.is_(None))
        rows = session.execute(statement.order_by(CAMPAIGNS.c.created_at)).mappings()
        return [Campaign.model_validate(dict(row)) for row in rows]


def campaign(engine: Engine, campaign_id: str) -> Campaign | None:
    with Session(engine) as session:
        return session.get(Campaign, campaign_id)


def campaign_of_call(engine: Engine, call_id: str) -> Campaign | None:
    """The campaign that requested the call, if one did."""
    with Session(engine) as session:
        placed = session.get(OutboundCall, call_id)
        if placed is None or placed.campaign_id is None:
            return None
        return session.get(Campaign, placed.campaign_id)


def agents_and_waiting(engine: Engine) -> tuple[list[AgentView], dict[Line, int]]:
    """Every known agent, and the campaign calls waiting (requested, not connected or ended)."""
    with Session(engine) as session:
        held = dict(
            session.execute(
                sa_select(AGENT_CALLS.c.agent_id, func.count())
                .where(~AGENT_CALLS.c.closed)
                .group_by(AGENT_CALLS.c.agent_id)
            ).all()
        )
        agents = [
            AgentView(row.skills or {}, _free(row, held.get(row.agent_id, 0)))
            for row in session.execute(sa_select(AGENTS_TABLE))
        ]
        calls = CALLS_TABLE.c
        waiting = session.execute(
            sa_select(calls.tenant_id, calls.language, func.count())
            .where(calls.requested_at.is_not(None), ~calls.connected, ~calls.finished)
            .group_by(calls.tenant_id, calls.language)
        )
        return agents, {(tenant, language): n for tenant, language, n in waiting}


def _free(agent: Any, holding: int) -> str:
    """`available` when the agent could take a call now: present, not busy, a free slot."""
    idle = agent.presence == "available" and agent.status == "available"
    return "available" if idle and holding < agent.capacity else "busy"


def candidates(
    engine: Engine, found: Campaign, after_seq: int, limit: int
) -> tuple[list[Judged], int | None]:
    """The next targets after `after_seq` that are not reached, called or capped (None: end)."""
    rules = found.campaign_rules()
    t = TARGETS.c
    with Session(engine) as session:
        rows = session.execute(
            _joined()
            .where(
                t.campaign_id == found.campaign_id,
                t.seq > after_seq,
                ~t.reached,
                t.calling_call_id.is_(None),
                t.attempts < rules.max_attempts,
            )
            .order_by(t.seq)
            .limit(limit)
        ).all()
        others = _other_campaign_calls(session, found, [row.subject_id for row in rows])
    judged = [_judged(found.tenant_id, row, others.get(row.subject_id)) for row in rows]
    last = rows[-1].seq if len(rows) == limit else None
    return judged, last


def _joined() -> Any:
    t, p = TARGETS.c, PEOPLE.c
    return sa_select(
        t.subject_id,
        t.seq,
        t.attempts,
        t.last_attempt_at,
        t.calling_call_id,
        t.reached,
        t.completed,
        p.customer_ref,
        p.phone,
        p.language,
        p.timezone,
        p.consent_granted,
        p.consent_at,
        p.consent_event_id,
        p.erased,
    ).join(PEOPLE, and_(p.tenant_id == t.tenant_id, p.subject_id == t.subject_id))


def _other_campaign_calls(
    session: Session, found: Campaign, subjects: Iterable[str] | None
) -> dict[str, datetime]:
    """The latest call the tenant's other campaigns requested to each person."""
    calls = CALLS_TABLE.c
    statement = (
        sa_select(calls.subject_id, func.max(calls.requested_at))
        .where(
            calls.tenant_id == found.tenant_id,
            calls.campaign_id != found.campaign_id,
            calls.requested_at.is_not(None),
        )
        .group_by(calls.subject_id)
    )
    if subjects is not None:
        statement = statement.where(calls.subject_id.in_(list(subjects)))
    return {subject: as_utc(at) for subject, at in session.execute(statement)}


def _judged(tenant_id: str, row: Any, other_call: datetime | None) -> Judged:
    consent = None
    if row.consent_granted is not None and row.consent_at is not None:
        consent = Consent(row.consent_granted, as_utc(row.consent_at), row.consent_event_id)
    target = Target(
        timezone=row.timezone,
        consent=consent,
        attempts=row.attempts,
        last_attempt_at=as_utc(row.last_attempt_at) if row.last_attempt_at else None,
        calling=row.calling_call_id is not None,
        reached=row.reached,
        other_campaign_call_at=other_call,
        erased=row.erased or not row.phone or not row.customer_ref,
    )
    line = (tenant_id, language_of(row.language))
    reachable = None
    if row.phone and row.customer_ref and consent is not None:
        reachable = Reachable(
            row.subject_id,
            row.customer_ref,
            row.phone,
            row.language,
            row.timezone,
            row.attempts,
            consent.event_id,
            row.seq,
        )
    return Judged(target, line, reachable)
