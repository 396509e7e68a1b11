"""The catalog of builds: which build of each projection is live, which are being built.

One row per build: `building` while it reads the history into its own tables, `live` once the
stable views show it, `retired` when another build took its place (its tables are dropped a
little later, once no instance still writes them). Making a build live is one transaction: a
compare-and-set on its state, the previous live build retired, the views replaced; so two
instances (or the service and the CLI) that finish the same build at once swap it only once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from callcenter_events.store import ProjectionPosition, as_utc
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection

from analytics.builds import Build, BuildProjection

RETIRED_TABLES_KEPT = timedelta(seconds=60)


class BuildState(StrEnum):
    BUILDING = "building"
    LIVE = "live"
    RETIRED = "retired"


_METADATA = MetaData()
BUILDS = Table(
    "analytics_builds",
    _METADATA,
    Column("name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("state", String(16), nullable=False),
    Column("tables", Text, nullable=False, doc="The build's physical tables, comma separated"),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("live_at", DateTime(timezone=True)),
    Column("retired_at", DateTime(timezone=True)),
)


@dataclass(frozen=True, slots=True)
class BuildRecord:
    build: Build
    state: BuildState
    tables: tuple[str, ...]
    started_at: datetime
    live_at: datetime | None
    retired_at: datetime | None


def create_catalog(engine: Engine) -> None:
    _METADATA.create_all(engine)
    ProjectionPosition.metadata.create_all(engine, tables=[_positions_table()])


def records(engine: Engine, name: str | None = None) -> list[BuildRecord]:
    statement = select(BUILDS).order_by(BUILDS.c.name, BUILDS.c.version, BUILDS.c.generation)
    if name is not None:
        statement = statement.where(BUILDS.c.name == name)
    with engine.connect() as connection:
        return [_record(row) for row in connection.execute(statement).mappings()]


def live_build(engine: Engine, name: str) -> Build | None:
    found = [r.build for r in records(engine, name) if r.state is BuildState.LIVE]
    return found[0] if found else None


def register(engine: Engine, build: BuildProjection) -> None:
    """Record a new build as `building` (nothing if it is already known)."""
    row = {
        "name": build.build.name,
        "version": build.build.version,
        "generation": build.build.generation,
        "state": BuildState.BUILDING.value,
        "tables": ",".join(table.name for table in build.tables.values()),
        "started_at": datetime.now(UTC),
    }
    with engine.begin() as connection:
        if connection.execute(select(BUILDS.c.state).where(_is(build.build))).first() is None:
            connection.execute(BUILDS.insert(), [row])


def make_live(engine: Engine, build: BuildProjection) -> bool:
    """Show `build` under the stable views if it is still `building`; False if not (any more)."""
    now = datetime.now(UTC)
    with engine.begin() as connection:
        _lock_catalog(connection)
        claimed = connection.execute(
            update(BUILDS)
            .where(_is(build.build), BUILDS.c.state == BuildState.BUILDING.value)
            .values(state=BuildState.LIVE.value, live_at=now)
        )
        if claimed.rowcount != 1:
            return False
        connection.execute(
            update(BUILDS)
            .where(
                BUILDS.c.name == build.build.name,
                BUILDS.c.state == BuildState.LIVE.value,
                ~_is(build.build),
            )
            .values(state=BuildState.RETIRED.value, retired_at=now)
        )
        build.show(connection)
    return True


def drop_build(engine: Engine, record: BuildRecord) -> None:
    """Drop a build's tables, positions and row (a retired one, or one abandoned unfinished)."""
    with engine.begin() as connection:
        for table in record.tables:
            connection.execute(text(f'DROP TABLE IF EXISTS "{table}"'))
        positions = _positions_table()
        connection.execute(delete(positions).where(positions.c.projection == record.build.key))
        connection.execute(delete(BUILDS).where(_is(record.build)))


def drop_retired(engine: Engine, now: datetime | None = None) -> list[Build]:
    """Drop the builds retired long enough ago that no instance writes them any more."""
    cutoff = (now or datetime.now(UTC)) - RETIRED_TABLES_KEPT
    old = [
        r
        for r in records(engine)
        if r.state is BuildState.RETIRED and r.retired_at is not None and r.retired_at < cutoff
    ]
    for record in old:
        drop_build(engine, record)
    return [record.build for record in old]


def next_generation(engine: Engine, name: str, version: int) -> int:
    known = [r.build.generation for r in records(engine, name) if r.build.version == version]
    return max(known) + 1 if known else 0


def _lock_catalog(connection: Connection) -> None:
    """Serialize swaps: PostgreSQL locks the catalog; SQLite already has a single writer."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE analytics_builds IN SHARE ROW EXCLUSIVE MODE"))


def _is(build: Build) -> Any:
    return and_(
        BUILDS.c.name == build.name,
        BUILDS.c.version == build.version,
        BUILDS.c.generation == build.generation,
    )


def _record(row: Any) -> BuildRecord:
    return BuildRecord(
        build=Build(row["name"], row["version"], row["generation"]),
        state=BuildState(row["state"]),
        tables=tuple(filter(None, row["tables"].split(","))),
        started_at=as_utc(row["started_at"]),
        live_at=_utc_or_none(row["live_at"]),
        retired_at=_utc_or_none(row["retired_at"]),
    )


def _utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def _positions_table() -> Table:
    table: Table = ProjectionPosition.__table__  # type: ignore[attr-defined]
    return table
