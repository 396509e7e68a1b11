"""The dialer over its projection (SQLite): progressive pacing as agents take, talk, wrap up.

Two campaign agents, five customers who may all be called. The dialer must never leave more
calls waiting than there are agents free to take one; an agent holding an offer, on a call or
in wrap-up is not free. Routing's and intake's facts are fed to the projection as the real
topics would deliver them.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from callcenter_events import Envelope, Event, Position, wrap
from callcenter_events.bus import InMemoryBus
from callcenter_events.models import (
    AgentChange,
    AgentStatus,
    AgentStatusChanged,
    AgentUpdated,
    CallConnected,
    CallEnded,
    CallingWindow,
    CallOffered,
    CampaignCreated,
    CampaignRules,
    ConsentGiven,
    CustomerUpdated,
    HangupBy,
    OutboundCallRequested,
    Outcome,
    Presence,
    Selection,
)
from callcenter_events.store import make_engine
from callcenter_events.testing import sealed
from callcenter_events.topics import SURVEYS
from sqlalchemy import Engine
from sqlmodel import Session
from surveys.campaignstore import CampaignProjection
from surveys.dialer import Dialer

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SKILLS = {"campaign": 1, "tenant:acme": 1, "lang:de": 5}
RULES = CampaignRules(
    audience={},
    window=CallingWindow(start=time(8), end=time(20)),
    max_attempts=2,
    retry_after_s=3600,
    rest_days=0,
)


class Store:
    """What the dialer needs of its projection runner: the engine, and that writes show."""

    def __init__(self, engine: Engine) -> None:
        self.store = self
        self.engine = engine
        self.projection = CampaignProjection()
        self.projection.create_tables(engine)

    def apply(self, *envelopes: Envelope) -> None:
        with Session(self.engine) as session:
            self.projection.apply(session, envelopes)
            session.commit()

    def reached(self, _position: Position) -> bool:
        return True


def _e(event: Event, subject: str | None = None) -> Envelope:
    return wrap(event, source="/test", correlation_id="c", data_subject=subject)


def _setup() -> list[Envelope]:
    envelopes = []
    for n in range(5):
        subject = f"s-{n}"
        customer = CustomerUpdated(
            tenant_id="acme",
            customer_ref=sealed(f"r-{n}", "customer_ref")[0],
            phone=sealed(f"+493010{n}", "phone")[0],
            language="de",
            timezone="Europe/Berlin",
            updated_at=NOW,
        )
        consent = ConsentGiven(
            tenant_id="acme",
            customer_ref=f"r-{n}",
            purpose="marketing_calls",
            source="web",
            at=NOW,
            recorded_at=NOW,
            recorded_by="operator",
        )
        envelopes += [_e(customer, subject), _e(consent, subject)]
    campaign = CampaignCreated(
        campaign_id="cp-1",
        tenant_id="acme",
        name="n",
        survey_id="sv",
        rules=RULES,
        created_at=NOW,
    )
    agents = [
        _e(AgentUpdated(agent_id=a, name=a, skills=SKILLS, capacity=1, updated_at=NOW))
        for a in ("ada", "bo")
    ]
    return [*envelopes, _e(campaign), *agents, *(_presence(a) for a in ("ada", "bo"))]


def _presence(agent: str, status: AgentStatus = AgentStatus.AVAILABLE, **more: Any) -> Envelope:
    change = AgentStatusChanged(
        agent_id=agent,
        status=status,
        presence=Presence.AVAILABLE,
        change=more.pop("change", AgentChange.PRESENCE),
        reason="test",
        changed_at=NOW,
        **more,
    )
    return _e(change)


def _offer(call_id: str, agent: str, connected: bool = False) -> Envelope:
    common: dict[str, Any] = {
        "offer_id": f"{call_id}.1",
        "call_id": call_id,
        "tenant_id": "acme",
        "agent_id": agent,
        "offered_at": NOW,
        "expires_at": NOW,
    }
    if connected:
        return _e(CallConnected(**common, closed_at=NOW))
    fields = {
        "step": 0,
        "requirements": SKILLS,
        "selection": Selection.LONGEST_IDLE,
        "candidates": [],
        "tie_break": "none",
        "eligible_count": 1,
        "not_listed": 0,
    }
    return _e(CallOffered(**common, **fields))


async def _tick(dialer: Dialer, bus: InMemoryBus, store: Store, seen: int) -> list[str]:
    """Tick; the projection reads what the dialer wrote; the call ids requested."""
    await dialer.tick()
    written = bus.envelopes(SURVEYS.name())[seen:]
    store.apply(*written)
    return [e.data.call_id for e in written if isinstance(e.data, OutboundCallRequested)]


async def test_never_more_calls_waiting_than_free_agents(tmp_path: Path) -> None:
    store = Store(make_engine(f"sqlite:///{tmp_path}/surveys.sqlite3"))
    store.apply(*_setup())
    bus = InMemoryBus()
    dialer = Dialer(store, bus, clock=lambda: NOW)  # type: ignore[arg-type]
    seen = 0

    async def tick() -> list[str]:
        nonlocal seen
        requested = await _tick(dialer, bus, store, seen)
        seen = len(bus.envelopes(SURVEYS.name()))
        return requested

    first, second = await tick()  # two free agents: two calls
    assert await tick() == [], "both agents have a call waiting for them"
    store.apply(_offer(first, "ada"))
    assert await tick() == [], "ada holds an offer; one call waits for bo"
    store.apply(_offer(first, "ada", connected=True), _offer(second, "bo"))
    assert await tick() == [], "ada talks, bo holds an offer"
    store.apply(_offer(second, "bo", connected=True))
    assert await tick() == [], "both talk"
    ended = CallEnded(
        call_id=first, tenant_id="acme", by=HangupBy.AGENT, outcome=Outcome.NO_ANSWER, ended_at=NOW
    )
    store.apply(
        _e(ended),
        _presence("ada", AgentStatus.WRAP_UP, change=AgentChange.CALL_ENDED, call_id=first),
    )
    assert await tick() == [], "ada wraps up"
    store.apply(
        _presence("ada", AgentStatus.AVAILABLE, change=AgentChange.WRAPPED_UP, call_id=first)
    )
    [third] = await tick()
    assert third not in (first, second), "a third customer; the first waits for the retry"
    assert await tick() == []
