"""The calls projection and its report, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from analytics.periods import Interval
from analytics.projections.calls import CallsProjection
from analytics.queries import CallsQuery, calls_report
from callcenter_events import Batch, Envelope, wrap
from callcenter_events.models import CallReceived
from callcenter_events.store import ProjectionStore, make_engine


def _call(call_id: str, tenant: str, hour: int, topic: str = "billing") -> Envelope:
    event = CallReceived(
        call_id=call_id,
        tenant_id=tenant,
        customer_ref="r",
        language="de",
        topic=topic,
        received_at=datetime(2026, 3, 5, hour, 15, tzinfo=UTC),
    )
    return wrap(event, source="/t", correlation_id="c")


@pytest.fixture
def store(database_url: str) -> Iterator[ProjectionStore]:
    store = ProjectionStore(make_engine(database_url), CallsProjection())
    store.create_tables()
    yield store
    store.engine.dispose()


def _query(**changes: object) -> CallsQuery:
    base: dict[str, object] = {
        "start": datetime(2026, 3, 5, tzinfo=UTC),
        "end": datetime(2026, 3, 6, tzinfo=UTC),
        "interval": Interval.DAY,
        "group_by": (),
        "tenant_id": None,
    }
    return CallsQuery(**(base | changes))  # type: ignore[arg-type]


def test_each_call_counts_once_even_when_delivered_twice(store: ProjectionStore) -> None:
    calls = [_call("a", "acme", 9), _call("b", "acme", 10), _call("c", "globex", 9)]
    store.apply(Batch(calls, {("calls", 0): 3}))
    store.apply(Batch([calls[0], calls[1]], {("calls", 0): 5}))  # redelivered under new offsets
    rows = calls_report(store.engine, _query())
    assert [(r["tenant_id"], r["offered"]) for r in rows] == [("acme", 2), ("globex", 1)]


def test_hours_group_and_tenant_filter(store: ProjectionStore) -> None:
    calls = [_call("a", "acme", 9), _call("b", "acme", 10, "returns"), _call("c", "acme", 10)]
    store.apply(Batch(calls, {("calls", 0): 3}))
    rows = calls_report(
        store.engine, _query(interval=Interval.HOUR, group_by=("topic",), tenant_id="acme")
    )
    assert [(r["period_start"][11:13], r["topic"], r["offered"]) for r in rows] == [
        ("09", "billing", 1),
        ("10", "billing", 1),
        ("10", "returns", 1),
    ]


def test_an_hour_counts_when_it_starts_before_the_end(store: ProjectionStore) -> None:
    store.apply(Batch([_call("a", "acme", 9), _call("b", "acme", 10)], {("calls", 0): 2}))
    just_after_ten = datetime(2026, 3, 5, 10, 0, 0, 1, tzinfo=UTC)
    at_ten = datetime(2026, 3, 5, 10, tzinfo=UTC)
    hours_until = [
        [
            r["period_start"][11:13]
            for r in calls_report(store.engine, _query(end=end, interval=Interval.HOUR))
        ]
        for end in (just_after_ten, at_ten)
    ]
    assert hours_until == [["09", "10"], ["09"]]
