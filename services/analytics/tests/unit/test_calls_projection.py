"""The calls projection (v2): one row per call, whatever the order and repetition of its facts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from analytics.projections.calls import CallsProjection
from analytics.projections.calls_tables import (
    CALL_OFFERS,
    CALLS,
    CUSTOMER_SEGMENTS,
    TENANT_THRESHOLDS,
)
from analytics.testing import live_store
from callcenter_events import Batch, Envelope, wrap
from callcenter_events.models import (
    CallAbandoned,
    CallConnected,
    CallEnded,
    CallOffered,
    CallQueued,
    CallReceived,
    CallWrappedUp,
    CustomerUpdated,
    Direction,
    HangupBy,
    OutboundCallRequested,
    Outcome,
    Selection,
    TenantCreated,
    TenantSettings,
    TenantSettingsChanged,
)
from callcenter_events.store import ProjectionStore, as_utc, make_engine
from sqlalchemy import Table, select

T0 = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _env(event: Any, subject: str | None = None) -> Envelope:
    return wrap(event, source="/t", correlation_id="c", data_subject=subject)


def _offer(call_id: str, offer_id: str, step: int, at: float, cls: Any = CallOffered) -> Envelope:
    fields: dict[str, Any] = {
        "offer_id": offer_id,
        "call_id": call_id,
        "tenant_id": "acme",
        "agent_id": f"agent-{offer_id}",
        "offered_at": _at(at),
        "expires_at": _at(at + 15),
    }
    if cls is CallOffered:
        fields |= {
            "step": step,
            "requirements": {},
            "selection": Selection.LONGEST_IDLE,
            "candidates": [],
            "tie_break": "longest_idle",
            "eligible_count": 1,
            "not_listed": 0,
        }
    else:
        fields["closed_at"] = _at(at + 2)
    return _env(cls(**fields))


def answered_call(call_id: str = "c1") -> list[Envelope]:
    """Received, queued, offered twice (step 0, then step 1), connected, ended, wrapped up."""
    return [
        _env(
            CallReceived(
                call_id=call_id,
                tenant_id="acme",
                customer_ref="sealed",
                language="de",
                topic="billing",
                priority=3,
                received_at=_at(0),
            ),
            subject="subject-1",
        ),
        _env(
            CallQueued(
                call_id=call_id, tenant_id="acme", priority=3, requirements={}, queued_at=_at(0.1)
            )
        ),
        _offer(call_id, f"{call_id}-o1", 0, 1),
        _offer(call_id, f"{call_id}-o2", 1, 20),
        _offer(call_id, f"{call_id}-o2", 1, 20, CallConnected),
        _env(CallEnded(call_id=call_id, tenant_id="acme", by=HangupBy.CALLER, ended_at=_at(300))),
        _env(
            CallWrappedUp(
                call_id=call_id, tenant_id="acme", disposition="solved", wrapped_up_at=_at(330)
            )
        ),
    ]


@pytest.fixture
def store(database_url: str) -> Iterator[ProjectionStore]:
    store = live_store(make_engine(database_url), CallsProjection())
    yield store
    store.engine.dispose()


def _rows(store: ProjectionStore, table: Table) -> list[dict[str, Any]]:
    with store.engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(select(table))]
    return [{k: as_utc(v) if isinstance(v, datetime) else v for k, v in r.items()} for r in rows]


def _project(store: ProjectionStore, *batches: list[Envelope]) -> None:
    offset = 0
    for batch in batches:
        offset += len(batch)
        store.apply(Batch(batch, {("calls", 0): offset}))


def test_a_call_is_one_row_with_every_fact(store: ProjectionStore) -> None:
    _project(store, answered_call())
    [row] = _rows(store, CALLS)
    assert row == {
        "call_id": "c1",
        "tenant_id": "acme",
        "direction": "inbound",
        "topic": "billing",
        "language": "de",
        "priority": 3,
        "data_subject": "subject-1",
        "campaign_id": None,
        "received_at": _at(0),
        "queued_at": _at(0.1),
        "connected_at": _at(22),
        "offer_id": "c1-o2",
        "agent_id": "agent-c1-o2",
        "step": 1,
        "ended_at": _at(300),
        "abandoned_at": None,
        "hangup_by": "caller",
        "outcome": None,
        "wrapped_up_at": _at(330),
        "disposition": "solved",
    }
    assert sorted((o["offer_id"], o["step"]) for o in _rows(store, CALL_OFFERS)) == [
        ("c1-o1", 0),
        ("c1-o2", 1),
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_order_any_batches_and_redelivery_give_the_same_row(
    store: ProjectionStore, seed: int, tmp_path: Any
) -> None:
    reference = live_store(make_engine(f"sqlite:///{tmp_path / 'ref.sqlite3'}"), CallsProjection())
    _project(reference, answered_call())
    events = answered_call() + answered_call()[2:5]
    random.Random(seed).shuffle(events)
    _project(store, *[[event] for event in events])
    assert _rows(store, CALLS) == _rows(reference, CALLS)
    reference.engine.dispose()


def test_the_step_is_found_when_the_connection_comes_before_its_offer(
    store: ProjectionStore,
) -> None:
    offered, connected = _offer("c2", "o9", 2, 5), _offer("c2", "o9", 2, 5, CallConnected)
    _project(store, [connected], [offered])
    [row] = _rows(store, CALLS)
    assert (row["step"], row["agent_id"], row["received_at"]) == (2, "agent-o9", None)


def test_an_outbound_call_gets_its_campaign_from_the_request(store: ProjectionStore) -> None:
    request = OutboundCallRequested(
        call_id="out-1",
        tenant_id="acme",
        campaign_id="spring",
        customer_ref="sealed",
        phone="sealed",
        language="de",
        attempt=1,
        consent_event_id="e1",
        local_time="2026-03-05T10:00:00+01:00",
        timezone="Europe/Berlin",
        requested_at=_at(-1),
    )
    received = CallReceived(
        call_id="out-1",
        tenant_id="acme",
        direction=Direction.OUTBOUND,
        customer_ref="sealed",
        language="de",
        topic="campaign",
        received_at=_at(0),
    )
    abandoned = CallAbandoned(
        call_id="out-1",
        tenant_id="acme",
        by=HangupBy.AGENT,
        outcome=Outcome.BUSY,
        abandoned_at=_at(30),
    )
    _project(store, [_env(received, "cust-7"), _env(abandoned)], [_env(request, "cust-7")])
    [row] = _rows(store, CALLS)
    assert (row["direction"], row["campaign_id"], row["data_subject"]) == (
        "outbound",
        "spring",
        "cust-7",
    )
    assert (row["outcome"], row["abandoned_at"]) == ("busy", _at(30))


def test_thresholds_history_and_latest_segments(store: ProjectionStore) -> None:
    created = TenantCreated(
        tenant_id="acme", name="Acme", settings=TenantSettings(), created_at=_at(0)
    )
    changed = TenantSettingsChanged(
        tenant_id="acme",
        settings=TenantSettings(service_level_threshold_s=30, short_abandon_s=10),
        changed_at=_at(3600),
    )
    old, new = (
        CustomerUpdated(
            tenant_id="acme",
            customer_ref="sealed",
            phone="sealed",
            language="de",
            timezone="Europe/Berlin",
            segment=segment,
            updated_at=_at(at),
        )
        for segment, at in (({"region": "north"}, 10), ({"region": "south", "products": ["a"]}, 20))
    )
    batches = [[_env(changed), _env(new, "cust-1")], [_env(created), _env(old, "cust-1")]]
    _project(store, *batches, batches[0])
    thresholds = sorted(
        (r["effective_at"], r["service_level_threshold_s"], r["short_abandon_s"])
        for r in _rows(store, TENANT_THRESHOLDS)
    )
    assert thresholds == [(_at(0), 20, 5), (_at(3600), 30, 10)]
    [segments] = _rows(store, CUSTOMER_SEGMENTS)
    assert (segments["data_subject"], segments["segment"]) == (
        "cust-1",
        {"products": ["a"], "region": "south"},
    )
