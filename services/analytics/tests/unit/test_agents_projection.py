"""The agents projection, the agents report and the queues now, on SQLite and PostgreSQL.

The call facts are the calls projection's; here a plain table of the columns these reports
read stands in for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from analytics.agent_queries import AgentsQuery, agents_report
from analytics.call_path import CALLS
from analytics.periods import Interval
from analytics.projections.agents import AgentsProjection
from analytics.realtime import RealtimeQuery, realtime_report
from analytics.testing import live_store
from callcenter_events import Batch, Envelope, Event, wrap
from callcenter_events.models import (
    AgentChange,
    AgentStatus,
    AgentStatusChanged,
    AgentUpdated,
    CallConnected,
    Presence,
)
from callcenter_events.store import ProjectionStore, make_engine
from callcenter_events.topics import AGENTS, ROUTING
from sqlalchemy import Column, Engine, MetaData, Table, text

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
SKILLS = {"tenant:acme": 5, "lang:de": 7, "topic:billing": 3}


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def envelope(event: Event) -> Envelope:
    return wrap(event, source="/test", correlation_id="corr")


def status(agent: str, seq: int, when: float, to: AgentStatus, call: str | None = None) -> Envelope:
    presence = Presence.AVAILABLE if to is not AgentStatus.OFFLINE else Presence.OFFLINE
    change = {AgentStatus.WRAP_UP: AgentChange.CALL_ENDED}.get(to, AgentChange.PRESENCE)
    event = AgentStatusChanged(
        seq=seq,
        agent_id=agent,
        status=to,
        presence=presence,
        change=change,
        reason="test",
        call_id=call,
        changed_at=minutes(when),
    )
    return envelope(event)


def connected(agent: str, seq: int, when: float, call: str) -> Envelope:
    event = CallConnected(
        seq=seq,
        offer_id=f"o-{call}",
        call_id=call,
        tenant_id="acme",
        agent_id=agent,
        offered_at=minutes(when),
        expires_at=minutes(when + 1),
        closed_at=minutes(when),
    )
    return envelope(event)


def profile(agent: str, seq: int, skills: dict[str, int], name: str = "Ada") -> Envelope:
    event = AgentUpdated(
        seq=seq, agent_id=agent, name=name, skills=skills, capacity=1, updated_at=minutes(seq)
    )
    return envelope(event)


AGENT_FACTS = [
    profile("a1", 0, SKILLS),
    status("a1", 1, 0, AgentStatus.AVAILABLE),
    status("a1", 3, 20, AgentStatus.WRAP_UP, "c1"),
    status("a1", 4, 25, AgentStatus.AVAILABLE, "c1"),
    status("a1", 5, 40, AgentStatus.OFFLINE),
]
ROUTING_FACTS = [connected("a1", 2, 10, "c1")]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> ProjectionStore:
    return live_store(engine, AgentsProjection())


@pytest.fixture
def calls(engine: Engine) -> Table:
    """A stand-in for the calls projection's `analytics_calls`."""
    table = Table(
        CALLS.name,
        MetaData(),
        *(Column(c.name, c.type, primary_key=c.name == "call_id") for c in CALLS.columns),
    )
    table.create(engine)
    return table


def add_calls(engine: Engine, table: Table, *rows: dict[str, Any]) -> None:
    columns = dict.fromkeys(c.name for c in CALLS.columns)
    with engine.begin() as connection:
        connection.execute(table.insert(), [columns | row for row in rows])


def project(store: ProjectionStore, *batches: tuple[list[Envelope], str]) -> None:
    for offset, (envelopes, topic) in enumerate(batches, start=1):
        store.apply(Batch(envelopes, {(topic, 0): offset}))


def report(engine: Engine, end: float = 60, interval: Interval = Interval.HOUR) -> Any:
    return agents_report(engine, AgentsQuery(T0, minutes(end), interval, None))


def status_now(engine: Engine) -> list[tuple[str, str, int]]:
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT agent_id, status, status_seq FROM analytics_agents")
        )
        return [tuple(row) for row in found]


def timeline_length(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(text("SELECT count(*) FROM analytics_agent_status")).scalar_one()
        )


EXPECTED = {
    "period_start": T0.isoformat(),
    "agent_id": "a1",
    "name": "Ada",
    "talk_s": 600.0,
    "wrap_up_s": 300.0,
    "available_s": 1500.0,
    "occupancy": 0.375,  # (10 + 5) / (10 + 5 + 25) minutes
    "calls_handled": 1,
    "aht_s": 900.0,
}


@pytest.mark.parametrize(
    "order",
    [
        [(AGENT_FACTS, AGENTS.base_name), (ROUTING_FACTS, ROUTING.base_name)],
        [(ROUTING_FACTS, ROUTING.base_name), (AGENT_FACTS, AGENTS.base_name)],
        [([fact], AGENTS.base_name) for fact in reversed(AGENT_FACTS)]
        + [(ROUTING_FACTS, ROUTING.base_name)],
    ],
    ids=["agents-first", "routing-first", "one-by-one-backwards"],
)
def test_occupancy_and_status_do_not_depend_on_the_order_of_topics(
    engine: Engine, store: ProjectionStore, calls: Table, order: list[Any]
) -> None:
    add_calls(
        engine,
        calls,
        {
            "call_id": "c1",
            "agent_id": "a1",
            "connected_at": minutes(10),
            "wrapped_up_at": minutes(25),
        },
        {"call_id": "c2", "agent_id": "a1", "connected_at": minutes(75)},  # the next hour
    )
    project(store, *order)
    assert report(engine) == [EXPECTED]
    assert status_now(engine) == [("a1", "offline", 5)]


def test_redelivered_facts_count_once(engine: Engine, store: ProjectionStore, calls: Table) -> None:
    project(store, (AGENT_FACTS + ROUTING_FACTS, AGENTS.base_name))
    project(store, (AGENT_FACTS[2:] + ROUTING_FACTS + AGENT_FACTS, AGENTS.base_name))
    row = report(engine)[0]
    assert (row["talk_s"], row["wrap_up_s"], row["available_s"]) == (600.0, 300.0, 1500.0)
    assert timeline_length(engine) == 5


def test_the_status_in_force_at_from_counts_and_now_ends_an_open_span(
    engine: Engine, store: ProjectionStore, calls: Table
) -> None:
    project(store, (AGENT_FACTS[:2] + ROUTING_FACTS, AGENTS.base_name))  # on the call since :10
    query = AgentsQuery(minutes(30), minutes(45), Interval.HOUR, "a1")
    (row,) = agents_report(engine, query)
    assert (row["talk_s"], row["available_s"], row["occupancy"]) == (900.0, 0.0, 1.0)
    assert row["calls_handled"] == 0  # connected before `from`


def test_a_later_profile_wins_and_replaces_the_skills(
    engine: Engine, store: ProjectionStore
) -> None:
    newer = profile("a1", 7, {"lang:en": 2}, name="Ada L.")
    project(store, ([newer], AGENTS.base_name), ([AGENT_FACTS[0]], AGENTS.base_name))
    with engine.connect() as connection:
        name = connection.execute(text("SELECT name FROM analytics_agents")).scalar()
        skills = connection.execute(text("SELECT skill, level FROM analytics_agent_skills")).all()
    assert (name, [tuple(s) for s in skills]) == ("Ada L.", [("lang:en", 2)])


def test_queues_now_count_waiting_calls_and_available_agents(
    engine: Engine, store: ProjectionStore, calls: Table
) -> None:
    project(
        store,
        (
            [
                profile("a1", 0, SKILLS),
                profile("a2", 0, {"tenant:globex": 5, "lang:de": 5, "topic:billing": 5}),
                profile("a3", 0, SKILLS | {"tenant:globex": 1}),
                profile("a4", 0, SKILLS),
                status("a1", 1, 0, AgentStatus.AVAILABLE),
                status("a2", 1, 0, AgentStatus.AVAILABLE),
                status("a3", 1, 0, AgentStatus.AVAILABLE),
                status("a4", 1, 0, AgentStatus.AWAY),
            ],
            AGENTS.base_name,
        ),
    )
    waiting = {"tenant_id": "acme", "direction": "inbound", "topic": "billing", "language": "de-AT"}
    add_calls(
        engine,
        calls,
        waiting | {"call_id": "w1", "received_at": minutes(1)},
        waiting | {"call_id": "w2", "received_at": minutes(3)},
        waiting | {"call_id": "in-future", "received_at": minutes(30)},
        waiting | {"call_id": "c", "received_at": minutes(0), "connected_at": minutes(1)},
        waiting | {"call_id": "x", "received_at": minutes(0), "abandoned_at": minutes(1)},
        waiting | {"call_id": "g", "tenant_id": "globex", "received_at": minutes(2)},
        waiting | {"call_id": "stale", "received_at": minutes(-25 * 60)},
    )
    now = minutes(5)
    mine = realtime_report(engine, RealtimeQuery(now, "acme"))
    assert mine["queues"] == [
        waiting | {"waiting": 2, "longest_wait_s": 240.0, "agents_available": 2}
    ]
    assert mine["skills"] == [
        {"skill": skill, "agents_available": 2} for skill in sorted(SKILLS)
    ]  # a3's `tenant:globex` is not acme's to see; a2 does not serve acme; a4 is away
    everyone = realtime_report(engine, RealtimeQuery(now, None))
    assert [(q["tenant_id"], q["waiting"]) for q in everyone["queues"]] == [
        ("acme", 2),
        ("globex", 1),
    ]
    assert {s["skill"]: s["agents_available"] for s in everyone["skills"]}["tenant:globex"] == 2


def test_a_connect_read_after_a_later_change_leaves_the_status_now(
    engine: Engine, store: ProjectionStore
) -> None:
    project(store, ([status("a1", 9, 50, AgentStatus.AVAILABLE)], AGENTS.base_name))
    project(store, (ROUTING_FACTS, ROUTING.base_name))
    assert status_now(engine) == [("a1", "available", 9)]
    assert timeline_length(engine) == 2
