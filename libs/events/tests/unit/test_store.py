"""The tracking rule, on SQLite and on PostgreSQL: rows and positions commit together."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from callcenter_events import Batch, Envelope
from callcenter_events.store import ProjectionStore, insert_new, make_engine, upsert
from callcenter_events.testing import call_received
from callcenter_events.topics import CALLS, Topic
from sqlalchemy import Engine, Table
from sqlmodel import Field, Session, SQLModel, select


class TenantCount(SQLModel, table=True):
    __tablename__ = "test_tenant_counts"

    tenant_id: str = Field(primary_key=True)
    calls: int


_TABLE: Table = TenantCount.__table__  # type: ignore[attr-defined]


class CountPerTenant:
    name: str = "count_per_tenant"
    version: int = 1
    types: frozenset[str] = frozenset({"call.received"})
    topics: tuple[Topic, ...] = (CALLS,)
    fail_on: str | None = None

    def create_tables(self, engine: Engine) -> None:
        SQLModel.metadata.create_all(engine, tables=[_TABLE])

    def apply(self, session: Session, envelopes: Sequence[Envelope]) -> None:
        rows: list[dict[str, Any]] = [{"tenant_id": e.tenant_id, "calls": 1} for e in envelopes]
        upsert(session, _TABLE, rows, keys=["tenant_id"], add=["calls"])
        if self.fail_on and any(e.tenant_id == self.fail_on for e in envelopes):
            raise RuntimeError("crash in the middle of the transaction")


def _batch(offset: int, tenant: str) -> Batch:
    envelope = call_received(f"c-{offset}", tenant_id=tenant)
    return Batch([envelope], {("calls", 0): offset + 1})


def _counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {row.tenant_id: row.calls for row in session.exec(select(TenantCount)).all()}


@pytest.fixture
def store(database_url: str) -> Iterator[ProjectionStore]:
    store = ProjectionStore(make_engine(database_url), CountPerTenant())
    store.create_tables()
    yield store
    store.engine.dispose()


def test_rows_and_positions_are_written_together(store: ProjectionStore) -> None:
    store.apply(_batch(0, "acme"))
    store.apply(_batch(1, "acme"))
    store.apply(_batch(2, "globex"))
    assert _counts(store.engine) == {"acme": 2, "globex": 1}
    assert store.positions() == {("calls", 0): 3}


def test_a_failed_batch_leaves_neither_rows_nor_positions(store: ProjectionStore) -> None:
    store.apply(_batch(0, "acme"))
    projection = store.projection
    assert isinstance(projection, CountPerTenant)
    projection.fail_on = "globex"
    with pytest.raises(RuntimeError):
        store.apply(_batch(1, "globex"))
    assert _counts(store.engine) == {"acme": 1}
    assert store.positions() == {("calls", 0): 1}


def test_positions_are_per_projection_version(store: ProjectionStore) -> None:
    store.apply(_batch(7, "acme"))
    other = ProjectionStore(store.engine, CountPerTenant())
    other.key = "count_per_tenant@v2"
    assert other.positions() == {}
    assert store.positions([("calls", 0), ("calls", 1)]) == {("calls", 0): 8}


class Stamp(SQLModel, table=True):
    __tablename__ = "test_stamps"

    stamp_id: str = Field(primary_key=True)
    at: datetime
    note: str | None = None


def test_insert_new_writes_rows_skips_known_keys_and_keeps_the_time(database_url: str) -> None:
    engine = make_engine(database_url)
    table: Table = Stamp.__table__  # type: ignore[attr-defined]
    SQLModel.metadata.create_all(engine, tables=[table])
    at = datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC)
    berlin = datetime(2026, 3, 29, 3, 30, 0, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    with Session(engine) as session:
        insert_new(session, table, [{"stamp_id": "a", "at": at, "note": None}])
        insert_new(
            session,
            table,
            [
                {"stamp_id": "a", "at": berlin, "note": "again"},
                {"stamp_id": "b", "at": berlin, "note": "x"},
            ],
        )
        session.commit()
    with Session(engine) as session:
        rows = {row.stamp_id: row for row in session.exec(select(Stamp)).all()}
    engine.dispose()
    assert sorted(rows) == ["a", "b"]
    assert rows["a"].note is None, "a known key is left as it was"
    assert _utc(rows["a"].at) == at
    assert _utc(rows["b"].at) == berlin  # 03:30 in Berlin that night is 01:30 UTC


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_upsert_writes_an_offset_time_as_the_same_instant(database_url: str) -> None:
    engine = make_engine(database_url)
    table: Table = Stamp.__table__  # type: ignore[attr-defined]
    SQLModel.metadata.create_all(engine, tables=[table])
    berlin = datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    with Session(engine) as session:
        upsert(session, table, [{"stamp_id": "a", "at": berlin, "note": None}], keys=["stamp_id"])
        session.commit()
    with Session(engine) as session:
        stored = session.exec(select(Stamp)).one()
    engine.dispose()
    assert _utc(stored.at) == berlin, "01:30 UTC, not 03:30 read as UTC"
