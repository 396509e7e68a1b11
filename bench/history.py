"""A generated call history, as the services write it: the log the replay benchmark rebuilds from.

Per answered inbound call: call.received, call.queued, call.offered, call.connected,
call.ended, the agent in wrap_up, call.wrapped_up, the agent available again (8 events, as
routing writes them: connecting puts the agent on the call without a status event); an
abandoned call: received, queued, abandoned, and routing's dequeued (4). Routing's facts say
that every call is over, so a routing built from this history has no call left waiting. One
call in ten is answered with a post-call survey (survey.answered). Ten tenants, a survey each,
200 agents registered and available (so routing can rebuild its state from it too). No
personal data (the events carry the pseudonymous data subject, as sealed events do), so no
vault is needed to write or read them.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from callcenter_events import Envelope, wrap
from callcenter_events.models import (
    AgentChange,
    AgentStatus,
    AgentStatusChanged,
    AgentUpdated,
    CallAbandoned,
    CallConnected,
    CallDequeued,
    CallEnded,
    CallOffered,
    CallQueued,
    CallReceived,
    CallWrappedUp,
    CandidateRecord,
    HangupBy,
    Presence,
    Question,
    QuestionType,
    Selection,
    SurveyAnswered,
    SurveyDefined,
    SurveyKind,
    TenantCreated,
    TenantSettings,
)
from callcenter_events.registry import Event

TENANTS = tuple(f"tenant-{n}" for n in range(10))
AGENTS = tuple(f"agent-{n}" for n in range(200))
TOPICS = ("billing", "returns", "tech", "contract")
START = datetime(2026, 10, 1, tzinfo=UTC)
SOURCE = "/bench/history"


def history(events: int, seed: int = 7) -> Iterator[Envelope]:
    """About `events` envelopes (whole calls), in the order they happened."""
    rng = random.Random(seed)
    seq = itertools.count(1)  # routing's running number of its facts
    yield from _setup(seq)
    written = len(TENANTS) * 2 + len(AGENTS) * 2
    for n in itertools.count():
        if written >= events:
            return
        call = _call(rng, seq, n)
        yield from call
        written += len(call)


def _setup(seq: Iterator[int]) -> Iterator[Envelope]:
    """The tenants with their surveys; the agents registered (any language and topic, capacity
    enough for the calls the history gives them at once) and available."""
    for tenant in TENANTS:
        created = TenantCreated(
            tenant_id=tenant, name=tenant, settings=TenantSettings(), created_at=START
        )
        yield _wrapped(created, tenant)
        yield _wrapped(_survey(tenant), tenant)
    skills = {"lang:de": 5, **{f"topic:{topic}": 5 for topic in TOPICS}}
    for agent in AGENTS:
        profile = AgentUpdated(
            seq=next(seq), agent_id=agent, name=agent, skills=skills, capacity=100, updated_at=START
        )
        yield _wrapped(profile, agent)
        available = AgentStatusChanged(
            seq=next(seq),
            agent_id=agent,
            status=AgentStatus.AVAILABLE,
            presence=Presence.AVAILABLE,
            change=AgentChange.PRESENCE,
            reason="presence",
            changed_at=START,
        )
        yield _wrapped(available, agent)


def _survey(tenant: str) -> SurveyDefined:
    return SurveyDefined(
        survey_id=f"{tenant}-post-call",
        tenant_id=tenant,
        version=1,
        name="After your call",
        kind=SurveyKind.POST_CALL,
        questions=[
            Question(id="nps", type=QuestionType.NPS, text="Recommend us?", required=True),
            Question(id="csat", type=QuestionType.CSAT, text="Satisfied?", required=True),
        ],
        defined_at=START,
    )


def _call(rng: random.Random, seq: Iterator[int], n: int) -> list[Envelope]:
    tenant = rng.choice(TENANTS)
    call_id = f"call-{n}"
    subject = f"s-{rng.randrange(40_000)}"
    received = START + timedelta(seconds=n * 20 + rng.randrange(20))
    received_event = CallReceived(
        call_id=call_id,
        tenant_id=tenant,
        language=rng.choice(("de", "en")),
        topic=rng.choice(TOPICS),
        received_at=received,
    )
    queued = received + timedelta(milliseconds=rng.randrange(5, 50))
    head = [
        _wrapped(received_event, call_id, subject),
        _wrapped(
            CallQueued(
                call_id=call_id,
                tenant_id=tenant,
                priority=0,
                requirements={},
                queued_at=queued,
                seq=next(seq),
            ),
            call_id,
        ),
    ]
    wait = timedelta(seconds=rng.expovariate(1 / 25))
    if rng.random() < 0.12:
        gone = CallAbandoned(
            call_id=call_id, tenant_id=tenant, by=HangupBy.CALLER, abandoned_at=received + wait
        )
        dequeued = CallDequeued(  # routing's fact of the abandon: the call left its queue
            seq=next(seq),
            call_id=call_id,
            tenant_id=tenant,
            reason="abandoned",
            dequeued_at=gone.abandoned_at,
        )
        return [*head, _wrapped(gone, call_id, subject), _wrapped(dequeued, call_id)]
    return head + _answered(rng, seq, call_id, tenant, subject, received + wait)


def _answered(
    rng: random.Random,
    seq: Iterator[int],
    call_id: str,
    tenant: str,
    subject: str,
    connected: datetime,
) -> list[Envelope]:
    agent = rng.choice(AGENTS)
    offer = f"{call_id}.1"  # as routing names offers: <call>.<attempt>
    offered_at = connected - timedelta(seconds=2)
    ended = connected + timedelta(seconds=rng.randrange(30, 900))
    wrapped_up = ended + timedelta(seconds=rng.randrange(5, 120))
    offer_fields = {
        "offer_id": offer,
        "call_id": call_id,
        "tenant_id": tenant,
        "agent_id": agent,
        "offered_at": offered_at,
        "expires_at": offered_at + timedelta(seconds=15),
    }
    events = [
        CallOffered(
            **offer_fields,
            step=0,
            requirements={},
            selection=Selection.LONGEST_IDLE,
            candidates=[CandidateRecord(agent_id=agent, eligible=True, score=1.0, reason="idle")],
            tie_break="longest idle",
            eligible_count=1,
            not_listed=0,
            seq=next(seq),
        ),
        CallConnected(**offer_fields, closed_at=connected, seq=next(seq)),
        CallEnded(call_id=call_id, tenant_id=tenant, by=HangupBy.CALLER, ended_at=ended),
        _status(next(seq), agent, AgentStatus.WRAP_UP, AgentChange.CALL_ENDED, call_id, ended),
        CallWrappedUp(
            call_id=call_id, tenant_id=tenant, disposition="solved", wrapped_up_at=wrapped_up
        ),
        _status(
            next(seq), agent, AgentStatus.AVAILABLE, AgentChange.WRAPPED_UP, call_id, wrapped_up
        ),
    ]
    envelopes = [_wrapped(event, call_id, subject) for event in events]
    if rng.random() < 0.1:
        envelopes.append(_wrapped(_answer(rng, call_id, tenant, wrapped_up), call_id, subject))
    return envelopes


def _status(
    seq: int, agent: str, status: AgentStatus, change: AgentChange, call_id: str, at: datetime
) -> AgentStatusChanged:
    return AgentStatusChanged(
        seq=seq,
        agent_id=agent,
        status=status,
        presence=Presence.AVAILABLE,
        change=change,
        reason=change.value,
        call_id=call_id,
        changed_at=at,
    )


def _answer(rng: random.Random, call_id: str, tenant: str, at: datetime) -> SurveyAnswered:
    return SurveyAnswered(
        response_id=f"{call_id}.response",
        tenant_id=tenant,
        survey_id=f"{tenant}-post-call",
        version=1,
        call_id=call_id,
        answers={"nps": rng.randrange(11), "csat": rng.randrange(1, 6)},
        segment={"region": rng.choice(("north", "south"))},
        answered_at=at + timedelta(minutes=2),
    )


def _wrapped(event: Event, correlation: str, subject: str | None = None) -> Envelope:
    return wrap(event, source=SOURCE, correlation_id=correlation, data_subject=subject)
