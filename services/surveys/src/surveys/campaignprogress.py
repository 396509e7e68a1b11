"""A campaign's progress now: every target's standing, counted in the database.

Targets are grouped by what decides their standing (reached, calling, number erased, consent
granted and in force, attempts capped, retry delay running, rest period running, time zone);
each group is judged once by the same rules the dialer uses, with a representative of the
group. A campaign of 200,000 targets is a few dozen groups, not 200,000 judgements.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from callcenter_events.models import CampaignRules
from sqlalchemy import Engine, and_, case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session

from surveys.campaigntables import CALLS_TABLE, PEOPLE, TARGETS, Campaign
from surveys.dialing.eligibility import Consent, Standing, Target, judge

MOMENT = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Progress:
    targeted: int
    standings: Counter[Standing]
    attempted: int
    completed: int


def progress(engine: Engine, found: Campaign, now: datetime) -> Progress:
    """Every target's standing at `now`, counted, with how many were attempted and completed."""
    rules = found.campaign_rules()
    with Session(engine) as session:
        groups = session.execute(_grouped(found, rules, now)).all()
    standings: Counter[Standing] = Counter()
    for group in groups:
        standings[judge(_representative(group, rules, now), rules, now)] += group.targets
    return Progress(
        targeted=sum(group.targets for group in groups),
        standings=standings,
        attempted=sum(group.attempted for group in groups),
        completed=sum(group.completed for group in groups),
    )


def _grouped(found: Campaign, rules: CampaignRules, now: datetime) -> Any:
    t, p = TARGETS.c, PEOPLE.c
    others = _other_campaigns_last_call(found)
    keys = [
        t.reached.label("reached"),
        t.calling_call_id.is_not(None).label("calling"),
        or_(p.erased, p.phone.is_(None), p.customer_ref.is_(None)).label("gone"),
        p.consent_granted.label("granted"),
        (p.consent_at <= now).label("in_force"),
        (t.attempts >= rules.max_attempts).label("capped"),
        (t.last_attempt_at > now - timedelta(seconds=rules.retry_after_s)).label("retrying"),
        (others.c.last_call > now - timedelta(days=rules.rest_days)).label("resting"),
        p.timezone.label("timezone"),
    ]
    return (
        sa_select(
            *keys,
            func.count().label("targets"),
            func.sum(case((t.attempts > 0, 1), else_=0)).label("attempted"),
            func.sum(case((t.completed, 1), else_=0)).label("completed"),
        )
        .select_from(TARGETS)
        .join(PEOPLE, and_(p.tenant_id == t.tenant_id, p.subject_id == t.subject_id))
        .outerjoin(others, others.c.subject_id == t.subject_id)
        .where(t.campaign_id == found.campaign_id)
        .group_by(*keys)
    )


def _other_campaigns_last_call(found: Campaign) -> Any:
    calls = CALLS_TABLE.c
    return (
        sa_select(calls.subject_id, func.max(calls.requested_at).label("last_call"))
        .where(
            calls.tenant_id == found.tenant_id,
            calls.campaign_id != found.campaign_id,
            calls.requested_at.is_not(None),
        )
        .group_by(calls.subject_id)
        .subquery()
    )


def _representative(group: Any, rules: CampaignRules, now: datetime) -> Target:
    """A target that stands where every target of the group stands."""
    consent = None
    if group.granted is not None and group.in_force is not None:
        consent = Consent(bool(group.granted), now - MOMENT if group.in_force else now + MOMENT, "")
    return Target(
        timezone=group.timezone,
        consent=consent,
        attempts=rules.max_attempts if group.capped else 0,
        last_attempt_at=now if group.retrying else None,
        calling=bool(group.calling),
        reached=bool(group.reached),
        other_campaign_call_at=now if group.resting else None,
        erased=bool(group.gone),
    )
