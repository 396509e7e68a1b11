"""Order-independent bulk writes, on SQLite and PostgreSQL: fill in what is missing, keep the
latest version."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from callcenter_events.store import as_utc, fill_in, keep_latest, make_engine
from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, String, Table, select
from sqlmodel import Session

METADATA = MetaData()
FACTS = Table(
    "test_merge_facts",
    METADATA,
    Column("fact_id", String, primary_key=True),
    Column("size", Integer),
    Column("at", DateTime(timezone=True)),
)
T0 = datetime(2026, 3, 5, 9, 0, 0, 250000, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    METADATA.create_all(engine)
    yield engine
    engine.dispose()


def _write(engine: Engine, *batches: list[dict[str, Any]], latest: bool = False) -> None:
    for rows in batches:
        with Session(engine) as session:
            if latest:
                keep_latest(session, FACTS, rows, keys=["fact_id"], by="at")
            else:
                fill_in(session, FACTS, rows, keys=["fact_id"])
            session.commit()


def _read(engine: Engine) -> dict[str, tuple[Any, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(select(FACTS)).all()
    return {row.fact_id: (row.size, row.at and as_utc(row.at)) for row in rows}


def test_fill_in_sets_what_is_missing_and_keeps_the_first_value(engine: Engine) -> None:
    _write(
        engine,
        [{"fact_id": "a", "size": None, "at": T0}, {"fact_id": "b", "size": 2, "at": None}],
        [{"fact_id": "a", "size": 1, "at": T0 + timedelta(hours=1)}],
        [{"fact_id": "a", "size": 9, "at": None}, {"fact_id": "b", "size": None, "at": T0}],
        [{"fact_id": "c", "size": None, "at": None}, {"fact_id": "a", "size": None, "at": None}],
    )
    assert _read(engine) == {"a": (1, T0), "b": (2, T0), "c": (None, None)}


def test_keep_latest_replaces_only_with_a_later_version(engine: Engine) -> None:
    later = T0 + timedelta(microseconds=1)
    _write(
        engine,
        [{"fact_id": "a", "size": 2, "at": later}],
        [{"fact_id": "a", "size": 1, "at": T0}, {"fact_id": "b", "size": 5, "at": T0}],
        [{"fact_id": "b", "size": 6, "at": later}],
        latest=True,
    )
    assert _read(engine) == {"a": (2, later), "b": (6, later)}
