"""Benchmark (g): analytics rebuilding every projection from the whole log, beside a bare consume.

A generated history (`bench.history`: call lifecycles, agent status changes, survey answers) of
about `events` records is published once into fresh topics. Then, in this one run:
- bare consume: an `AIOKafkaConsumer` reads every record of those topics from offset zero to the
  end (no group, no decoding): what the broker and the client cost;
- bare consume + decode: the same, each record read into its envelope by `Reader` (what every
  projection's consumer does before any projection code runs);
- replay into SQLite and into PostgreSQL: the analytics projections (every registered one) are
  built from offset zero into an empty database by the service's own `ProjectionSupervisor`,
  timed until every live build has read the log to its end.
Events/s are the log's records over the wall time; each projection reads its own topics with its
own consumer, as the service does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from analytics.registry import PROJECTIONS
from analytics.running import progress
from analytics.settings import AnalyticsSettings
from analytics.supervisor import ProjectionSupervisor
from callcenter_events.admin import ensure_topics
from callcenter_events.broadcast import partitions_of
from callcenter_events.consumer import raw_records
from callcenter_events.producer import EventProducer
from callcenter_events.reading import Reader
from callcenter_events.store import make_engine
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.history import history

CHUNK, WINDOW = 2000, 4
CATCH_UP_TIMEOUT_S = 1800.0


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    bootstrap_servers: str
    topic_prefix: str
    work_dir: Path
    events: int
    postgres_url: str | None  # a server URL; a fresh database is created on it


@dataclass(frozen=True, slots=True)
class Timed:
    records: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class ReplayResult:
    records: int
    projections: tuple[str, ...]
    bare: Timed
    decode: Timed
    sqlite: Timed
    postgres: Timed | None

    def problems(self) -> list[str]:
        return []


def run(options: ReplayOptions) -> ReplayResult:
    return asyncio.run(_run(options))


async def _run(options: ReplayOptions) -> ReplayResult:
    prefix = options.topic_prefix + "replay."
    print(f"replay: publishing a history of ~{options.events:,} events", flush=True)
    await ensure_topics(options.bootstrap_servers, prefix=prefix)
    await publish_history(options.bootstrap_servers, prefix, options.events)
    topics = sorted({t.name(prefix) for p in PROJECTIONS for t in p.topics})
    print("replay: bare consume, then with decoding", flush=True)
    bare = await _consume(options.bootstrap_servers, topics, decode=False)
    decode = await _consume(options.bootstrap_servers, topics, decode=True)
    print("replay: SQLite", flush=True)
    sqlite = await _replay(options, prefix, f"sqlite:///{options.work_dir / 'replay.sqlite3'}")
    postgres = None
    if options.postgres_url:
        print("replay: PostgreSQL", flush=True)
        with _fresh_database(options.postgres_url) as url:
            postgres = await _replay(options, prefix, url)
    names = tuple(sorted({p.name for p in PROJECTIONS}))
    return ReplayResult(bare.records, names, bare, decode, sqlite, postgres)


async def publish_history(bootstrap: str, prefix: str, events: int) -> None:
    """`bench.history` of about `events` records, into the topics of `prefix`."""
    producer = EventProducer(bootstrap, client_id="bench-replay", topic_prefix=prefix)
    await producer.start()
    try:
        chunk = []
        pending: list[asyncio.Future[Any]] = []
        for envelope in history(events):
            chunk.append(envelope)
            if len(chunk) == CHUNK:
                pending += await producer.enqueue_all(chunk)
                chunk = []
                if len(pending) >= CHUNK * WINDOW:
                    await asyncio.gather(*pending)
                    pending = []
        pending += await producer.enqueue_all(chunk)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topics: Sequence[str], *, decode: bool) -> Timed:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(t, p) for t in topics for p in await partitions_of(bootstrap, t)
        ]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        for partition in partitions:  # fresh topics: the log starts at 0 (no lazy reset)
            consumer.seek(partition, 0)
        reader = Reader()
        total, started = 0, time.perf_counter()
        remaining = {tp for tp, end in ends.items() if end > 0}
        while remaining:
            polled = await consumer.getmany(timeout_ms=500, max_records=1000)
            raw = list(raw_records(polled))
            if decode:
                reader.read(raw)
            total += len(raw)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return Timed(total, time.perf_counter() - started)
    finally:
        await consumer.stop()


async def _replay(options: ReplayOptions, prefix: str, database_url: str) -> Timed:
    settings = AnalyticsSettings(
        kafka_bootstrap_servers=options.bootstrap_servers,
        topic_prefix=prefix,
        database_url=database_url,
    )
    engine = make_engine(database_url)
    producer = EventProducer(options.bootstrap_servers, client_id="bench", topic_prefix=prefix)
    await producer.start()
    supervisor = ProjectionSupervisor(engine, settings, producer, PROJECTIONS)
    started = time.perf_counter()
    await supervisor.start()
    try:
        records = await _until_read(supervisor, prefix)
        return Timed(records, time.perf_counter() - started)
    finally:
        await supervisor.stop()
        await producer.stop()
        engine.dispose()


async def _until_read(supervisor: ProjectionSupervisor, prefix: str) -> int:
    """Poll until every live build has read its topics to the end; the log's record count."""
    deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
    while time.monotonic() < deadline:
        behind = 0
        for run in supervisor.live.values():
            assert run is not None
            topics = [t.name(prefix) for t in run.projection.topics]
            behind += (await progress(supervisor.engine, run.projection, topics, supervisor.ends))[
                1
            ]
        if behind == 0:
            topics = sorted({t.name(prefix) for p in PROJECTIONS for t in p.topics})
            return sum((await supervisor.ends.ends(topics)).values())
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the projections did not catch up within {CATCH_UP_TIMEOUT_S} s")


@contextlib.contextmanager
def _fresh_database(server_url: str) -> Iterator[str]:
    """A new database on the server, dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
