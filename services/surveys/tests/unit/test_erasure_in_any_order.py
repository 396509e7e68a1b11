"""Surveys' copies of the customers keep nothing of an erased subject, in whatever order a replay
reads the topics: the erasure (privacy topic) before or after the customer's facts (surveys
topic). Both projections that hold customers are held to it, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from callcenter_events import Envelope, Event, wrap
from callcenter_events.models import CustomerErased, CustomerUpdated
from callcenter_events.store import Projection, make_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlmodel import Session, SQLModel
from surveys.campaignstore import CampaignProjection
from surveys.campaigntables import PEOPLE
from surveys.customerstore import Customer, CustomerProjection

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SUBJECTS = ("s1", "s2", "s3")
PHONES = ("p1", "p2")
CUSTOMERS: Any = Customer.__table__  # type: ignore[attr-defined]
PROJECTIONS: dict[str, tuple[Callable[[], Projection], Any]] = {
    "customers": (CustomerProjection, CUSTOMERS),
    "campaigns": (CampaignProjection, PEOPLE),
}

Op = tuple[Any, ...]
_update = st.tuples(st.just("update"), st.sampled_from(SUBJECTS), st.sampled_from(PHONES))
_erasure = st.tuples(
    st.just("erase"), st.lists(st.sampled_from(SUBJECTS + PHONES), min_size=1, max_size=2)
)
HISTORIES = st.lists(st.one_of(_update, _update, _erasure), min_size=1, max_size=12)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    url = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _sealed(subject: str) -> str:
    return f"pd1.{subject}." + base64.urlsafe_b64encode(subject.encode() * 20).decode().rstrip("=")


def _event(index: int, op: Op) -> tuple[Event, str | None]:
    moment = T0 + timedelta(minutes=index)
    if op[0] == "update":
        _, subject, phone = op
        update = CustomerUpdated(
            tenant_id="acme",
            customer_ref=_sealed(subject),
            phone=_sealed(phone),
            language="de",
            timezone="Europe/Berlin",
            segment={"region": f"r{index}"},
            updated_at=moment,
        )
        return update, subject
    erasure = CustomerErased(
        erasure_id=f"er-{index}",
        tenant_id="acme",
        subject_ids=sorted(set(op[1])),
        requested_by="operator",
        erased_at=moment,
    )
    return erasure, None


def _envelopes(history: Sequence[Op]) -> list[Envelope]:
    return [
        wrap(event, source="/test", correlation_id="c", event_id=f"ev-{n}", data_subject=subject)
        for n, (event, subject) in enumerate(_event(i, op) for i, op in enumerate(history))
    ]


def _rows_after(engine: Engine, kind: str, batches: Iterator[list[Envelope]]) -> list[Any]:
    projection_class, table = PROJECTIONS[kind]
    projection = projection_class()
    SQLModel.metadata.drop_all(engine)
    projection.create_tables(engine)
    with Session(engine) as session:
        for batch in batches:
            projection.apply(session, batch)
        session.commit()
        return list(session.execute(select(table)).mappings())


def _expected(history: Sequence[Op]) -> dict[str, tuple[str | None, str | None]]:
    """Subject -> (reference, number) the tables may show: the latest update's, unless erased."""
    erased = {subject for op in history if op[0] == "erase" for subject in op[1]}
    latest = {op[1]: op[2] for op in history if op[0] == "update"}
    return {
        subject: (
            None if subject in erased else _sealed(subject),
            None if subject in erased or phone in erased else _sealed(phone),
        )
        for subject, phone in latest.items()
    }


def _orders(history: Sequence[Op]) -> dict[str, list[list[Envelope]]]:
    envelopes = _envelopes(history)
    erasures = [e for e in envelopes if isinstance(e.data, CustomerErased)]
    facts = [e for e in envelopes if not isinstance(e.data, CustomerErased)]
    return {
        "as written": [envelopes],
        "privacy topic first": [erasures, facts],
        "privacy topic last": [facts, erasures],
        "one at a time, privacy first": [[e] for e in erasures + facts],
    }


@pytest.mark.parametrize("kind", sorted(PROJECTIONS))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=HISTORIES)
def test_an_erased_subject_leaves_nothing_whatever_the_topic_order(
    engine: Engine, kind: str, history: list[Op]
) -> None:
    expected = _expected(history)
    for order, batches in _orders(history).items():
        rows = _rows_after(engine, kind, iter(b for b in batches if b))
        shown = {r["subject_id"]: (r["customer_ref"], r["phone"]) for r in rows}
        assert shown == expected, order
