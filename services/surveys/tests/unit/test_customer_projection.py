"""The customer projection writes a batch a few statements at a time: whatever the batches, its
tables end as one event at a time leaves them (SQLite here, PostgreSQL where one is named)."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from callcenter_events import Envelope, Event, wrap
from callcenter_events.models import ConsentGiven, ConsentWithdrawn, CustomerErased, CustomerUpdated
from callcenter_events.store import make_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select
from sqlmodel import Session
from surveys.customerstore import ConsentEntry, Customer, CustomerProjection, ErasedSubject

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SUBJECTS = ("s1", "s2", "s3")
PHONES = ("p1", "p2")
TABLES: list[Any] = [Customer, ConsentEntry, ErasedSubject]

Op = tuple[Any, ...]
_update = st.tuples(
    st.just("update"), st.sampled_from(SUBJECTS), st.sampled_from(PHONES), st.booleans()
)
_statement = st.tuples(
    st.just("consent"), st.sampled_from(SUBJECTS), st.booleans(), st.integers(0, 3)
)
_erasure = st.tuples(
    st.just("erase"), st.lists(st.sampled_from(SUBJECTS + PHONES), min_size=1, max_size=2)
)
HISTORIES = st.lists(st.one_of(_update, _update, _statement, _statement, _erasure), max_size=14)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    url = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    CustomerProjection().create_tables(engine)
    yield engine
    engine.dispose()


def _sealed(subject: str) -> str:
    """A value in the sealed form (the projection reads its subject, never opens it)."""
    return f"pd1.{subject}." + base64.urlsafe_b64encode(subject.encode() * 20).decode().rstrip("=")


def _event(index: int, op: Op) -> tuple[Event, str | None]:
    moment = T0 + timedelta(minutes=index)
    if op[0] == "update":
        _, subject, phone, named = op
        update = CustomerUpdated(
            tenant_id="acme",
            customer_ref=_sealed(subject),
            phone=_sealed(phone),
            name=_sealed(subject) if named else None,
            language="de",
            timezone="Europe/Berlin",
            segment={"region": f"r{index}"},
            updated_at=moment,
        )
        return update, subject
    if op[0] == "consent":
        _, subject, granted, day = op
        kind = ConsentGiven if granted else ConsentWithdrawn
        statement = kind(
            tenant_id="acme",
            customer_ref=_sealed(subject),
            purpose="marketing_calls",
            source=f"source-{index}",
            at=T0 - timedelta(days=day),
            recorded_at=moment,
            recorded_by="operator",
        )
        return statement, subject
    erasure = CustomerErased(
        erasure_id=f"er-{index}",
        tenant_id="acme",
        subject_ids=sorted(set(op[1])),
        requested_by="operator",
        erased_at=moment,
    )
    return erasure, None


def _envelopes(history: Sequence[Op]) -> list[Envelope]:
    events = [_event(index, op) for index, op in enumerate(history)]
    return [
        wrap(event, source="/test", correlation_id="c", event_id=f"ev-{n}", data_subject=subject)
        for n, (event, subject) in enumerate(events)
    ]


def _batches(envelopes: list[Envelope], sizes: list[int]) -> Iterator[list[Envelope]]:
    start = 0
    for size in [*sizes, len(envelopes)]:
        if start >= len(envelopes):
            return
        yield envelopes[start : start + size]
        start += size


def _tables_after(engine: Engine, batches: Iterator[list[Envelope]]) -> list[list[Any]]:
    projection = CustomerProjection()
    with Session(engine) as session:
        for table in TABLES:
            session.execute(delete(table))
        for batch in batches:
            projection.apply(session, batch)
        session.commit()
        return [
            sorted(tuple(row) for row in session.execute(select(*table.__table__.columns)))
            for table in TABLES
        ]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=HISTORIES, sizes=st.lists(st.integers(1, 8), max_size=6))
def test_any_batching_leaves_the_tables_as_one_event_at_a_time(
    engine: Engine, history: list[Op], sizes: list[int]
) -> None:
    envelopes = _envelopes(history)
    one_at_a_time = _tables_after(engine, ([envelope] for envelope in envelopes))
    assert _tables_after(engine, _batches(envelopes, sizes)) == one_at_a_time


def test_a_statement_before_its_customer_exists_leaves_the_consent_unset(engine: Engine) -> None:
    envelopes = _envelopes([("consent", "s1", True, 0), ("update", "s1", "p1", False)])
    customers, ledger, _erased = _tables_after(engine, iter([envelopes]))
    assert len(ledger) == 1
    assert [row[:2] for row in customers] == [("acme", "s1")]
    assert _consent_of(engine, "s1") is None


def test_the_latest_statement_by_its_date_is_the_consent(engine: Engine) -> None:
    history = [
        ("update", "s1", "p1", True),
        ("consent", "s1", False, 0),  # given today: the latest by its date
        ("consent", "s1", True, 2),  # reported later, given two days earlier
    ]
    _tables_after(engine, iter([_envelopes(history)]))
    assert _consent_of(engine, "s1") is False


def _consent_of(engine: Engine, subject: str) -> bool | None:
    table = Customer.__table__  # type: ignore[attr-defined]
    with Session(engine) as session:
        query = select(table.c.marketing_consent).where(table.c.subject_id == subject)
        value: bool | None = session.execute(query).scalar_one()
        return value
