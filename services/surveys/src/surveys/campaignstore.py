"""The dialer's view of the log: campaigns, the people they may call, their calls, the agents.

Built from the log alone, in the log's order, so a replay yields the same campaigns with the
same targets: a campaign targets the tenant's customers its audience matched when it was
created (in the surveys topic's order), and every matching customer written later. The people
table repeats what the dialer needs of a customer (zone, language, latest consent, the sealed
reference and number) because it must be in step with the campaigns, which the customers
projection, consumed on its own, is not.

Calls are rows keyed by call id, filled by whichever fact arrives first (the request on the
surveys topic, intake's `call.received` on the calls topic); the call's end follows its
`call.received` on the same partition. A target's history (attempts, last attempt, a call in
progress, reached, completed) is recomputed from its calls, so the order of topics never matters.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from callcenter_events import Envelope
from callcenter_events.models import (
    AgentChange,
    AgentStatusChanged,
    AgentUpdated,
    CallAbandoned,
    CallConnected,
    CallEnded,
    CallOffered,
    CallReceived,
    CampaignCreated,
    CampaignStopped,
    CustomerUpdated,
    Direction,
    OfferFact,
    OfferMissed,
    OfferRejected,
    OfferWithdrawn,
    OutboundCallRequested,
    Outcome,
    SubjectsErased,
    SurveyAnswered,
)
from callcenter_events.store import upsert
from callcenter_events.topics import AGENTS, CALLS, PRIVACY, ROUTING, SURVEYS, Topic
from sqlalchemy import Engine, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel

from surveys.campaignpeople import erase_people, is_person_fact, put_people
from surveys.campaigntables import (
    AGENT_CALLS,
    AGENTS_TABLE,
    CALLS_TABLE,
    CAMPAIGNS,
    ERASED,
    PEOPLE,
    TARGETS,
)
from surveys.dialing.audience import in_audience
from surveys.dialing.pacing import language_of

TYPES = frozenset(
    {
        "customer.updated",
        "consent.given",
        "consent.withdrawn",
        "caller.erased",
        "customer.erased",
        "campaign.created",
        "campaign.stopped",
        "outbound_call.requested",
        "survey.answered",
        "call.received",
        "call.offered",
        "call.connected",
        "offer.rejected",
        "offer.missed",
        "offer.withdrawn",
        "call.abandoned",
        "call.ended",
        "agent.updated",
        "agent.status_changed",
    }
)


class CampaignProjection:
    name: str = "surveys_campaigns"
    version: int = 1
    types: frozenset[str] = TYPES
    topics: tuple[Topic, ...] = (SURVEYS, CALLS, ROUTING, AGENTS, PRIVACY)

    def create_tables(self, engine: Engine) -> None:
        tables = [CAMPAIGNS, PEOPLE, ERASED, TARGETS, CALLS_TABLE, AGENTS_TABLE, AGENT_CALLS]
        SQLModel.metadata.create_all(engine, tables=tables)

    def apply(self, session: Session, envelopes: Sequence[Envelope]) -> None:
        running = _Running(session)
        for people, run in itertools.groupby(envelopes, key=is_person_fact):
            if people:
                _people(session, list(run), running)
            else:
                for envelope in run:
                    _apply(session, envelope, running)


class _Running:
    """Each tenant's running campaigns, read once per batch (a campaign event reads anew)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._by_tenant: dict[str, list[Any]] = {}

    def of(self, tenant_id: str) -> list[Any]:
        if tenant_id not in self._by_tenant:
            self._by_tenant[tenant_id] = list(
                self._session.execute(
                    sa_select(
                        CAMPAIGNS.c.campaign_id, CAMPAIGNS.c.tenant_id, CAMPAIGNS.c.rules
                    ).where(CAMPAIGNS.c.tenant_id == tenant_id, CAMPAIGNS.c.stopped_at.is_(None))
                ).all()
            )
        return self._by_tenant[tenant_id]

    def forget(self, tenant_id: str) -> None:
        self._by_tenant.pop(tenant_id, None)


def _apply(session: Session, envelope: Envelope, running: _Running) -> None:
    data = envelope.data
    if isinstance(data, SubjectsErased):
        _erase(session, data.subject_ids)
        return
    if isinstance(data, CampaignCreated | CampaignStopped):
        running.forget(data.tenant_id)
        _campaign(session, data)
        return
    if isinstance(data, AgentUpdated | AgentStatusChanged):
        _agent(session, data)
        return
    if isinstance(data, OfferFact):
        _agent_call(session, data)
    call_id = _call_fact(session, envelope)
    if call_id is not None:
        _refresh_target_of(session, call_id)


def _campaign(session: Session, event: CampaignCreated | CampaignStopped) -> None:
    if isinstance(event, CampaignCreated):
        _create_campaign(session, event)
        return
    stop = update(CAMPAIGNS).where(CAMPAIGNS.c.campaign_id == event.campaign_id)
    session.execute(stop.values(stopped_at=event.stopped_at))


def _people(session: Session, run: list[Envelope], running: _Running) -> None:
    """A run of customers and consent statements; each customer joins the running campaigns
    whose audience they match."""
    erased = put_people(session, run)
    for envelope in run:
        event = envelope.data
        if (
            isinstance(event, CustomerUpdated)
            and str(envelope.data_subject) not in erased
            and running.of(event.tenant_id)
        ):
            _enrol(session, running.of(event.tenant_id), str(envelope.data_subject), event.segment)


def _erase(session: Session, ids: list[str]) -> None:
    if ids:
        erase_people(session, ids)


def _create_campaign(session: Session, event: CampaignCreated) -> None:
    row = {
        "campaign_id": event.campaign_id,
        "tenant_id": event.tenant_id,
        "name": event.name,
        "survey_id": event.survey_id,
        "rules": event.rules.model_dump(mode="json"),
        "created_at": event.created_at,
    }
    upsert(session, CAMPAIGNS, [row], keys=["campaign_id"])
    people = session.execute(
        sa_select(PEOPLE.c.subject_id, PEOPLE.c.segment)
        .where(PEOPLE.c.tenant_id == event.tenant_id, PEOPLE.c.erased.is_(False))
        .order_by(PEOPLE.c.subject_id)
    )
    audience = event.rules.audience
    chosen = [p.subject_id for p in people if in_audience(audience, p.segment or {})]
    targets = [
        {"campaign_id": event.campaign_id, "subject_id": s, "tenant_id": event.tenant_id, "seq": n}
        for n, s in enumerate(chosen)
    ]
    upsert(session, TARGETS, targets, keys=["campaign_id", "subject_id"])


def _enrol(
    session: Session, campaigns: list[Any], subject_id: str, segment: dict[str, Any]
) -> None:
    """A customer written after a campaign began joins it when its audience matches."""
    for campaign in campaigns:
        if not in_audience(campaign.rules["audience"], segment):
            continue
        last = session.execute(
            sa_select(func.max(TARGETS.c.seq)).where(TARGETS.c.campaign_id == campaign.campaign_id)
        ).scalar()
        row = {
            "campaign_id": campaign.campaign_id,
            "subject_id": subject_id,
            "tenant_id": campaign.tenant_id,
            "seq": (last if last is not None else -1) + 1,
        }
        upsert(session, TARGETS, [row], keys=["campaign_id", "subject_id"])


def _agent(session: Session, event: AgentUpdated | AgentStatusChanged) -> None:
    if isinstance(event, AgentUpdated):
        row: dict[str, Any] = {
            "agent_id": event.agent_id,
            "skills": event.skills,
            "capacity": event.capacity,
        }
        upsert(session, AGENTS_TABLE, [row], keys=["agent_id"], replace=["skills", "capacity"])
        return
    row = {
        "agent_id": event.agent_id,
        "presence": event.presence.value,
        "status": event.status.value,
    }
    upsert(session, AGENTS_TABLE, [row], keys=["agent_id"], replace=["presence", "status"])
    if event.change in (AgentChange.CALL_ENDED, AgentChange.WRAPPED_UP) and event.call_id:
        _hold(session, event.agent_id, event.call_id, closed=True)


def _agent_call(session: Session, fact: OfferFact) -> None:
    """An offer (and then the connected call) holds the agent; a closed offer frees them."""
    if isinstance(fact, CallOffered | CallConnected):
        _hold(session, fact.agent_id, fact.call_id, closed=False)
    elif isinstance(fact, OfferRejected | OfferMissed | OfferWithdrawn):
        _hold(session, fact.agent_id, fact.call_id, closed=True)


def _hold(session: Session, agent_id: str, call_id: str, *, closed: bool) -> None:
    row = {"agent_id": agent_id, "call_id": call_id, "closed": closed}
    replace = ["closed"] if closed else []  # closing wins, whichever fact came first
    upsert(session, AGENT_CALLS, [row], keys=["agent_id", "call_id"], replace=replace)


def _call_fact(session: Session, envelope: Envelope) -> str | None:  # noqa: PLR0911
    """Record what a fact says about an outbound call; the call's id if it said anything."""
    data = envelope.data
    if isinstance(data, OutboundCallRequested):
        _requested(session, envelope, data)
        return data.call_id
    if isinstance(data, CallReceived):
        if data.direction is not Direction.OUTBOUND:
            return None
        row = {"call_id": data.call_id, "tenant_id": data.tenant_id}
        upsert(session, CALLS_TABLE, [row], keys=["call_id"])
        return data.call_id
    if isinstance(data, CallConnected):
        return _mark(session, data.call_id, connected=True)
    if isinstance(data, CallAbandoned):
        return _mark(session, data.call_id, finished=True)
    if isinstance(data, CallEnded):
        reached = data.outcome in (None, Outcome.REACHED)
        return _mark(session, data.call_id, finished=True, reached=reached)
    if isinstance(data, SurveyAnswered) and data.campaign_id and data.call_id:
        return _mark(session, data.call_id, answered=True)
    return None


def _requested(session: Session, envelope: Envelope, event: OutboundCallRequested) -> None:
    row = {
        "call_id": event.call_id,
        "tenant_id": event.tenant_id,
        "campaign_id": event.campaign_id,
        "subject_id": envelope.data_subject,
        "language": language_of(event.language),
        "attempt": event.attempt,
        "requested_at": event.requested_at,
    }
    replace = ["campaign_id", "subject_id", "language", "attempt", "requested_at"]
    upsert(session, CALLS_TABLE, [row], keys=["call_id"], replace=replace)


def _mark(session: Session, call_id: str, **values: bool) -> str | None:
    result = session.execute(
        update(CALLS_TABLE).where(CALLS_TABLE.c.call_id == call_id).values(**values)
    )
    return call_id if result.rowcount else None  # type: ignore[attr-defined]


def _refresh_target_of(session: Session, call_id: str) -> None:
    call = session.execute(
        sa_select(CALLS_TABLE.c.campaign_id, CALLS_TABLE.c.subject_id).where(
            CALLS_TABLE.c.call_id == call_id
        )
    ).one_or_none()
    if call is None or call.campaign_id is None or call.subject_id is None:
        return
    calls = session.execute(
        sa_select(CALLS_TABLE).where(
            CALLS_TABLE.c.campaign_id == call.campaign_id,
            CALLS_TABLE.c.subject_id == call.subject_id,
        )
    ).all()
    running = [c.call_id for c in calls if not c.finished]
    session.execute(
        update(TARGETS)
        .where(TARGETS.c.campaign_id == call.campaign_id, TARGETS.c.subject_id == call.subject_id)
        .values(
            attempts=len(calls),
            last_attempt_at=max((c.requested_at for c in calls if c.requested_at), default=None),
            calling_call_id=running[0] if running else None,
            reached=any(c.reached for c in calls),
            completed=any(c.answered for c in calls),
        )
    )
