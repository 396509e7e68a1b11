"""Builds of a projection: physical tables per build, and the stable views onto the live one.

A build is one projection version built from offset zero; building the same version again
(`projections rebuild`) makes a new generation. Each build writes its own copies of the
projection's tables (`analytics_calls` -> `analytics_calls__v2g1`) and stores its positions under
its own key, so it can be built beside the live build, stopped and resumed. The stable names are
views (`CREATE VIEW analytics_calls AS SELECT * FROM analytics_calls__v2g1`) onto the live
build, replaced in the transaction that makes another build live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from callcenter_events import Envelope
from callcenter_events.topics import Topic
from sqlalchemy import Connection, Engine, MetaData, Table, text
from sqlalchemy.sql.elements import quoted_name
from sqlmodel import Session

from analytics.projection import AnalyticsProjection, Tables


@dataclass(frozen=True, slots=True, order=True)
class Build:
    name: str
    version: int
    generation: int = 0

    @property
    def key(self) -> str:
        """The key of its stored positions (the consumer group adds the service name)."""
        return f"{self.name}@v{self.version}" + (f"#g{self.generation}" if self.generation else "")

    @property
    def suffix(self) -> str:
        return f"__v{self.version}g{self.generation}"

    def __str__(self) -> str:
        return self.key


def physical_tables(projection: AnalyticsProjection, build: Build) -> dict[str, Table]:
    """The build's own copies of the projection's tables, indexes renamed to match."""
    metadata = MetaData()
    copies = {}
    for table in projection.tables:
        copy = table.to_metadata(metadata, name=f"{table.name}{build.suffix}")
        for index in copy.indexes:
            columns = "_".join(column.name for column in index.columns)
            index.name = quoted_name(f"ix_{copy.name}_{columns}", quote=None)
        copies[table.name] = copy
    return copies


class BuildProjection:
    """One build of a projection, in the shape `ProjectionStore` runs (positions under its key)."""

    def __init__(self, projection: AnalyticsProjection, build: Build) -> None:
        self.projection = projection
        self.build = build
        self.name = build.key.split("@")[0] + (f".g{build.generation}" if build.generation else "")
        self.version = build.version
        self.types: frozenset[str] = projection.types
        self.topics: tuple[Topic, ...] = projection.topics
        self.tables: Tables = physical_tables(projection, build)

    def create_tables(self, engine: Engine) -> None:
        for table in self.tables.values():
            table.create(engine, checkfirst=True)

    def drop_tables(self, engine: Engine) -> None:
        for table in self.tables.values():
            table.drop(engine, checkfirst=True)

    def apply(self, session: Session, envelopes: Sequence[Envelope]) -> None:
        self.projection.apply(session, envelopes, self.tables)

    def show(self, connection: Connection) -> None:
        """Point the stable views at this build's tables (inside the caller's transaction)."""
        for stable, table in self.tables.items():
            _drop_view_or_legacy_table(connection, stable)
            connection.execute(text(f'CREATE VIEW "{stable}" AS SELECT * FROM "{table.name}"'))


def _drop_view_or_legacy_table(connection: Connection, name: str) -> None:
    """Drop the view; a table of that name is one from before builds had their own tables."""
    if connection.dialect.name == "postgresql":
        kind = connection.execute(
            text("SELECT relkind FROM pg_class WHERE relname = :n AND pg_table_is_visible(oid)"),
            {"n": name},
        ).scalar()
        found = {"v": "VIEW", "r": "TABLE"}.get(str(kind)) if kind else None
    else:
        kind = connection.execute(
            text("SELECT type FROM sqlite_master WHERE name = :n"), {"n": name}
        ).scalar()
        found = {"view": "VIEW", "table": "TABLE"}.get(str(kind)) if kind else None
    if found:
        connection.execute(text(f'DROP {found} "{name}"'))
