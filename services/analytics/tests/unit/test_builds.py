"""Builds of a projection: their own tables, the views onto the live one, a swap made once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from analytics import catalog
from analytics.builds import Build, BuildProjection, physical_tables
from analytics.projection import Tables
from callcenter_events import Envelope
from callcenter_events.topics import CALLS, Topic
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, inspect, text
from sqlmodel import Session, create_engine

_METADATA = MetaData()
NOTES = Table(
    "analytics_test_notes",
    _METADATA,
    Column("note_id", String(32), primary_key=True),
    Column("tenant_id", String(32), nullable=False, index=True),
    Column("weight", Integer, nullable=False),
)


class Notes:
    name = "notes"
    version = 3
    types: frozenset[str] = frozenset()
    topics: tuple[Topic, ...] = (CALLS,)
    tables: tuple[Table, ...] = (NOTES,)

    def apply(self, session: Session, envelopes: Sequence[Envelope], tables: Tables) -> None:
        raise NotImplementedError  # the catalog never applies events


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    catalog.create_catalog(engine)
    yield engine
    engine.dispose()


def started(engine: Engine, generation: int, weight: int) -> BuildProjection:
    build = BuildProjection(Notes(), Build("notes", 3, generation))
    catalog.register(engine, build)
    build.create_tables(engine)
    with engine.begin() as connection:
        table = build.tables[NOTES.name]
        connection.execute(table.insert(), [{"note_id": "n1", "tenant_id": "t", "weight": weight}])
    return build


def visible_weight(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT weight FROM analytics_test_notes")).scalar_one())


def test_each_build_has_its_own_tables_and_indexes() -> None:
    first = physical_tables(Notes(), Build("notes", 3, 0))[NOTES.name]
    again = physical_tables(Notes(), Build("notes", 3, 1))[NOTES.name]
    assert (first.name, again.name) == ("analytics_test_notes__v3g0", "analytics_test_notes__v3g1")
    assert {i.name for i in first.indexes} == {"ix_analytics_test_notes__v3g0_tenant_id"}
    assert {i.name for i in again.indexes} == {"ix_analytics_test_notes__v3g1_tenant_id"}
    assert NOTES.name == "analytics_test_notes"  # the declared table is left as it was


def test_the_views_show_the_live_build_and_a_swap_happens_once(engine: Engine) -> None:
    old, new = started(engine, 0, weight=1), started(engine, 1, weight=2)
    assert catalog.make_live(engine, old)
    assert visible_weight(engine) == 1
    assert catalog.make_live(engine, new)
    assert visible_weight(engine) == 2
    assert not catalog.make_live(engine, new), "a second swap of the same build does nothing"
    states = {r.build.generation: r.state for r in catalog.records(engine, "notes")}
    assert states == {0: catalog.BuildState.RETIRED, 1: catalog.BuildState.LIVE}
    assert catalog.live_build(engine, "notes") == Build("notes", 3, 1)
    assert catalog.next_generation(engine, "notes", 3) == 2


def test_a_retired_build_is_dropped_once_no_instance_can_still_write_it(engine: Engine) -> None:
    old, new = started(engine, 0, weight=1), started(engine, 1, weight=2)
    catalog.make_live(engine, old)
    catalog.make_live(engine, new)
    assert catalog.drop_retired(engine) == []
    later = datetime.now(UTC) + catalog.RETIRED_TABLES_KEPT + timedelta(seconds=1)
    assert catalog.drop_retired(engine, now=later) == [Build("notes", 3, 0)]
    assert not inspect(engine).has_table("analytics_test_notes__v3g0")
    assert visible_weight(engine) == 2
    assert [r.build.generation for r in catalog.records(engine, "notes")] == [1]


def test_a_table_left_under_a_stable_name_gives_way_to_the_view(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE analytics_test_notes (legacy INTEGER)"))
    build = started(engine, 0, weight=5)
    assert catalog.make_live(engine, build)
    assert visible_weight(engine) == 5
