"""Projection storage with the tracking rule: rows and consumed positions in one transaction.

SQLite is the embedded default; PostgreSQL when the URL names one. A projection applies a batch
of events to its tables inside the transaction that also moves its positions forward, so a crash
at any point leaves rows and positions in agreement, and a restart resumes exactly there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol, TypeVar
from weakref import WeakKeyDictionary

import structlog
from sqlalchemy import Connection, DateTime, Engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

from callcenter_events.batch import Batch, TransientError
from callcenter_events.envelope import Envelope
from callcenter_events.topics import Topic

log = structlog.get_logger(__name__)
T = TypeVar("T")


class ProjectionPosition(SQLModel, table=True):
    """The next offset a projection reads per topic partition."""

    __tablename__ = "projection_positions"

    projection: str = Field(primary_key=True)
    topic: str = Field(primary_key=True)
    partition: int = Field(primary_key=True)
    next_offset: int


class Projection(Protocol):
    """A named, versioned read model built from events."""

    name: str
    version: int
    types: frozenset[str]
    topics: tuple[Topic, ...]

    def create_tables(self, engine: Engine) -> None: ...

    def apply(self, session: Session, envelopes: Sequence[Envelope]) -> None: ...


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(database_url, pool_pre_ping=True, pool_size=5, max_overflow=5)


_SQLITE_THREADS: WeakKeyDictionary[Engine, ThreadPoolExecutor] = WeakKeyDictionary()


async def in_db_thread(engine: Engine, work: Callable[..., T], *args: Any) -> T:
    """Run blocking database work off the event loop.

    SQLite has one writer at a time, and its busy handler sleeps while it waits: threads of a
    pool that compete for the lock turn milliseconds into hundreds. So every piece of work on
    a SQLite engine runs on that engine's one thread, in order; other databases use the pool.
    """
    if engine.dialect.name != "sqlite":
        return await asyncio.to_thread(work, *args)
    executor = _SQLITE_THREADS.get(engine)
    if executor is None:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        _SQLITE_THREADS[engine] = executor
    return await asyncio.get_running_loop().run_in_executor(executor, work, *args)


def make_sqlite_folder(database_url: str) -> None:
    """SQLite creates the file but not its folder (`.local/` on a fresh checkout)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(connection: Any, _record: object) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def upsert(
    session: Session,
    table: Any,
    rows: Sequence[Mapping[str, Any]],
    *,
    keys: Iterable[str],
    add: Iterable[str] = (),
    replace: Iterable[str] = (),
) -> None:
    """Insert `rows`; on a key conflict add the `add` columns and overwrite the `replace` ones.

    One statement executed for many parameter sets: it is compiled once and cached, where a
    multi-row VALUES clause would be compiled anew for every batch size.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    updates = {name: table.c[name] + statement.excluded[name] for name in add}
    updates |= {name: statement.excluded[name] for name in replace}
    if updates:
        statement = statement.on_conflict_do_update(index_elements=list(keys), set_=updates)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    session.execute(statement, [dict(row) for row in rows])


def insert_new(session: Session, table: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT many rows, skipping those whose key exists, straight through the driver.

    The same as `upsert` without updates, minus SQLAlchemy's per-row parameter processing,
    which dominates a hot projection's CPU time: values go to the driver as tuples (datetimes
    in SQLite as SQLAlchemy itself stores them, naive UTC text).
    """
    _insert_many(session, table, rows, "ON CONFLICT DO NOTHING")


def fill_in(
    session: Session, table: Any, rows: Sequence[Mapping[str, Any]], *, keys: Sequence[str]
) -> None:
    """INSERT many rows; where the key exists, set only the columns that are still NULL.

    A column, once set, keeps its first value: rows folded from facts that arrive in any order,
    or twice, leave the same row. Straight through the driver, like `insert_new`; rows are
    written grouped by the columns they know, so a statement names (and a database updates,
    with their indexes) only those.
    """
    known: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        present = {name: value for name, value in row.items() if value is not None}
        known.setdefault(frozenset(present), []).append(present)
    name = table.name
    for group in known.values():
        sets = ", ".join(
            f"{column} = COALESCE({name}.{column}, excluded.{column})"
            for column in group[0]
            if column not in keys
        )
        conflict = f"DO UPDATE SET {sets}" if sets else "DO NOTHING"
        _insert_many(session, table, group, f"ON CONFLICT ({', '.join(keys)}) {conflict}")


def keep_latest(
    session: Session,
    table: Any,
    rows: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    by: str,
) -> None:
    """INSERT many rows; where the key exists, replace the row if its `by` column is later.

    The latest version wins whatever order the versions arrive in (ties keep the stored one).
    """
    if not rows:
        return
    name = table.name
    sets = ", ".join(f"{column} = excluded.{column}" for column in rows[0] if column not in keys)
    conflict = f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
    _insert_many(session, table, rows, f"{conflict} WHERE excluded.{by} > {name}.{by}")


def _insert_many(
    session: Session, table: Any, rows: Sequence[Mapping[str, Any]], on_conflict: str
) -> None:
    if not rows:
        return
    connection = session.connection()
    sqlite_db = connection.dialect.name == "sqlite"
    columns = list(rows[0])
    marks = ", ".join(["?" if sqlite_db else "%s"] * len(columns))
    statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks}) {on_conflict}"
    get = itemgetter(*columns)
    values: list[Any] = (
        [get(row) for row in rows] if len(columns) > 1 else [(get(row),) for row in rows]
    )
    times = [i for i, c in enumerate(columns) if sqlite_db and _holds_times(table, c, rows[0])]
    if times:
        values = [_sqlite_times(row, times) for row in values]
    connection.exec_driver_sql(statement, values)


def _holds_times(table: Any, column: str, first: Mapping[str, Any]) -> bool:
    """Whether SQLite needs the column's values as text: a DateTime column, or datetimes."""
    return isinstance(table.c[column].type, DateTime) or isinstance(first[column], datetime)


def _sqlite_times(values: Sequence[Any], times: Sequence[int]) -> tuple[Any, ...]:
    row = list(values)
    for index in times:
        if row[index] is not None:
            row[index] = _sqlite_value(row[index])
    return tuple(row)


def as_utc(moment: datetime) -> datetime:
    """A datetime read back from a store, aware: SQLite hands back naive ones, stored as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        text = value.isoformat(" ", "microseconds")
        if len(text) == _NAIVE_TEXT or text.endswith("+00:00"):
            return text[:_NAIVE_TEXT]  # naive, or UTC already: the common case, made cheap
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


_NAIVE_TEXT = len("2026-01-31 00:00:00.000000")


def insert_if_absent(connection: Connection, table: Any, row: Mapping[str, Any]) -> bool:
    """INSERT that does nothing on a key conflict; True if the row was inserted."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    result = connection.execute(insert(table).values(dict(row)).on_conflict_do_nothing())
    return bool(result.rowcount == 1)


class ProjectionStore:
    """Runs one projection against one database: the batch handler and the start positions."""

    def __init__(self, engine: Engine, projection: Projection) -> None:
        self.engine = engine
        self.projection = projection
        self.key = f"{projection.name}@v{projection.version}"

    def create_tables(self) -> None:
        SQLModel.metadata.create_all(self.engine, tables=[_POSITIONS])
        self.projection.create_tables(self.engine)

    async def handle(self, batch: Batch) -> None:
        await in_db_thread(self.engine, self.apply, batch)

    def apply(self, batch: Batch) -> None:
        try:
            with Session(self.engine) as session:
                self.projection.apply(session, batch.envelopes)
                self._advance(session, batch.next_offsets)
                session.commit()
        except OperationalError as exc:
            raise TransientError(str(exc)) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise TransientError(str(exc)) from exc
            raise

    async def start_positions(
        self, partitions: Sequence[tuple[str, int]]
    ) -> dict[tuple[str, int], int]:
        return await in_db_thread(self.engine, self.positions, partitions)

    def positions(self, partitions: Sequence[tuple[str, int]] = ()) -> dict[tuple[str, int], int]:
        wanted = set(partitions)
        with Session(self.engine) as session:
            rows = session.exec(
                select(ProjectionPosition).where(col(ProjectionPosition.projection) == self.key)
            ).all()
        found = {(row.topic, row.partition): row.next_offset for row in rows}
        return {tp: offset for tp, offset in found.items() if not wanted or tp in wanted}

    def _advance(self, session: Session, next_offsets: Mapping[tuple[str, int], int]) -> None:
        rows = [
            {"projection": self.key, "topic": t, "partition": p, "next_offset": offset}
            for (t, p), offset in next_offsets.items()
        ]
        upsert(
            session,
            _POSITIONS,
            rows,
            keys=["projection", "topic", "partition"],
            replace=["next_offset"],
        )


_POSITIONS: Any = ProjectionPosition.__table__  # type: ignore[attr-defined]
