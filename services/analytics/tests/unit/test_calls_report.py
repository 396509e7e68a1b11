"""The calls report over the projection, on SQLite and PostgreSQL: periods, groups, thresholds
in force, FCR's 72 hours to the microsecond."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from analytics.calls_query import CallsQuery
from analytics.calls_report import calls_report
from analytics.calls_testing import CallSpec, call_events
from analytics.periods import Interval
from analytics.projections.calls import CallsProjection
from analytics.testing import live_store
from callcenter_events import Batch, Envelope, wrap
from callcenter_events.models import (
    CustomerUpdated,
    Direction,
    TenantCreated,
    TenantSettings,
    TenantSettingsChanged,
)
from callcenter_events.store import ProjectionStore, make_engine

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
H, S, US = timedelta(hours=1), timedelta(seconds=1), timedelta(microseconds=1)
NOW = T0 + timedelta(days=30)
TALK, WRAP = 100 * S, 30 * S


def _spec(call_id: str, at: timedelta, subject: str, **changes: Any) -> CallSpec:
    return CallSpec(
        call_id=call_id, tenant_id="acme", received_at=T0 + at, subject=subject, **changes
    )


A1 = _spec("a1", H, "s1", wait=25 * S, talk=TALK, wrap_up=WRAP, agent_id="ann")
A2 = _spec("a2", 13 * H, "s3", wait=25 * S, talk=TALK, wrap_up=WRAP, agent_id="bob")
A3 = _spec("a3", 15 * H, "s2", wait=10 * S, talk=200 * S, wrap_up=10 * S, agent_id="ann")
A1_END, A3_END = T0 + H + 25 * S + TALK, T0 + 15 * H + 210 * S
CALLS = [
    A1,
    _spec("ab1", 2 * H, "s4", abandon=7 * S),
    A2,
    _spec("ab2", 14 * H, "s5", abandon=7 * S),
    A3,
    _spec(
        "o1",
        16 * H,
        "s1",
        wait=9 * S,
        talk=TALK,
        wrap_up=WRAP,
        direction=Direction.OUTBOUND,
        topic="campaign",
        campaign_id="spring",
        agent_id="cara",
    ),
    CallSpec("r1", "acme", A1_END + 72 * H, "s1", abandon=3 * S),  # a repeat, just in time
    CallSpec(
        "r2",
        "acme",
        A3_END + 24 * H,
        "s2",
        topic="tech",
        wait=5 * S,
        talk=60 * S,
        wrap_up=0 * S,
    ),
    CallSpec("r3", "acme", A3_END + 72 * H + US, "s2", abandon=20 * S),  # a moment too late
    CallSpec("g1", "globex", T0 + 5 * H, "x1", wait=4 * S, talk=TALK, wrap_up=WRAP),
]


def _setup() -> list[Envelope]:
    settings = TenantSettings(service_level_threshold_s=30, short_abandon_s=10)
    facts: list[Any] = [
        TenantCreated(
            tenant_id="acme", name="Acme", settings=TenantSettings(), created_at=T0 - 24 * H
        ),
        TenantSettingsChanged(tenant_id="acme", settings=settings, changed_at=T0 + 12 * H),
    ]
    envelopes = [wrap(f, source="/t", correlation_id="c") for f in facts]
    for subject, segment in (
        ("s1", {"products": ["tv", "radio"], "region": "north"}),
        ("s2", {"region": "south"}),
    ):
        customer = CustomerUpdated(
            tenant_id="acme",
            customer_ref="r",
            phone="p",
            language="de",
            timezone="UTC",
            segment=segment,
            updated_at=T0,
        )
        envelopes.append(wrap(customer, source="/t", correlation_id="c", data_subject=subject))
    return envelopes


@pytest.fixture(scope="module")
def history() -> list[Envelope]:
    return _setup() + [event for spec in CALLS for event in call_events(spec)]


@pytest.fixture
def store(database_url: str, history: list[Envelope]) -> Iterator[ProjectionStore]:
    store = live_store(make_engine(database_url), CallsProjection())
    store.apply(Batch(history, {("calls", 0): len(history)}))
    yield store
    store.engine.dispose()


def _report(store: ProjectionStore, now: datetime = NOW, **changes: Any) -> list[dict[str, Any]]:
    query: dict[str, Any] = {
        "start": T0,
        "end": T0 + timedelta(days=7),
        "interval": Interval.DAY,
        "tenant_id": "acme",
    }
    return calls_report(store.engine, CallsQuery(**(query | changes)), now)


def _pick(rows: list[dict[str, Any]], *names: str) -> list[tuple[Any, ...]]:
    return [tuple(row[name] for name in names) for row in rows]


def test_a_day_of_calls_with_a_threshold_change(store: ProjectionStore) -> None:
    day = _report(store)[0]
    assert day == {
        "period_start": "2026-03-02T00:00:00+00:00",
        "tenant_id": "acme",
        "offered": 5,
        "answered": 3,
        "abandoned": 2,
        "short_abandoned": 1,  # ab2: 7 s, after the short-abandon threshold became 10 s
        "service_level": 0.5,  # a2 (25 s <= 30 s) and a3; a1's 25 s was over the 20 s then
        "asa_s": 20.0,
        "aht_s": 156.667,  # (130 + 130 + 210) / 3
        "abandonment_rate": 0.25,
        "fcr_rate": 0.6667,  # a1 was repeated (r1, exactly 72 h after it ended)
        "answered_within_threshold": 2,
        "completed": 3,
        "fcr_calls": 3,
        "fcr_resolved": 2,
        "outbound_calls": 1,
        "outbound_connected": 1,
    }


def test_later_days_rates_without_denominator_are_null(store: ProjectionStore) -> None:
    rows = _report(store)
    assert _pick(
        rows[1:],
        "period_start",
        "offered",
        "service_level",
        "asa_s",
        "abandonment_rate",
        "fcr_rate",
    ) == [
        ("2026-03-03T00:00:00+00:00", 1, 1.0, 5.0, 0.0, 1.0),
        ("2026-03-05T00:00:00+00:00", 2, 0.0, None, 1.0, None),
    ]


def test_fcr_waits_for_the_72_hours_to_pass(store: ProjectionStore) -> None:
    assert A3.ended_at == A3_END
    day = _report(store, now=A3_END + 72 * H - US)[0]
    assert (day["fcr_calls"], day["fcr_resolved"], day["fcr_rate"]) == (2, 1, 0.5)


def test_weeks_months_hours_and_the_range(store: ProjectionStore) -> None:
    for interval in (Interval.WEEK, Interval.MONTH):
        assert _pick(_report(store, interval=interval), "period_start", "offered") == [
            (
                "2026-03-02T00:00:00+00:00"
                if interval is Interval.WEEK
                else "2026-03-01T00:00:00+00:00",
                8,
            )
        ]
    hour = _report(store, start=T0 + H, end=T0 + 2 * H, interval=Interval.HOUR)
    assert _pick(hour, "period_start", "offered", "answered") == [
        ("2026-03-02T01:00:00+00:00", 1, 1)
    ]
    assert _report(store, start=T0 + H + US, end=T0 + 2 * H) == []


def test_groups_topic_direction_agent_campaign(store: ProjectionStore) -> None:
    first_day = {"end": T0 + timedelta(days=1)}
    rows = _report(store, group_by=("direction", "campaign", "topic"), **first_day)
    assert _pick(rows, "direction", "campaign", "topic", "offered", "outbound_calls") == [
        ("inbound", None, "billing", 5, 0),
        ("outbound", "spring", "campaign", 0, 1),
    ]
    agents = _report(store, group_by=("agent",), **first_day)
    assert _pick(agents, "agent", "answered", "aht_s") == [
        ("ann", 2, 170.0),
        ("bob", 1, 130.0),
        ("cara", 0, None),
        (None, 0, None),
    ]


def test_segment_lists_put_a_call_in_each_value(store: ProjectionStore) -> None:
    rows = _report(store, group_by=("segment.products",), end=T0 + timedelta(days=1))
    assert _pick(rows, "segment.products", "offered") == [("radio", 1), ("tv", 1), (None, 4)]


def test_tenant_scope(store: ProjectionStore) -> None:
    rows = _report(store, tenant_id="globex")
    assert _pick(rows, "tenant_id", "offered", "service_level") == [("globex", 1, 1.0)]
    everyone = _report(store, tenant_id=None, end=T0 + timedelta(days=1))
    assert _pick(everyone, "tenant_id", "offered") == [("acme", 5), ("globex", 1)]
