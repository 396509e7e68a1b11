"""Rebuilding a projection beside the live one: served from the old build until the swap.

The projection here is made for the test: calls per tenant, weighted 1 in version 1 and 2 in
version 2, so a reader can tell which build answers. `TALLY_BATCH_DELAY_S` slows each batch (a
throttle, so that a rebuild is still running when the test looks at it or kills it). Run as a
script, this file is the rebuild process: `rebuild()` of `tally` with both versions registered.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from analytics import catalog
from analytics.app import create_app
from analytics.builds import Build, BuildProjection
from analytics.http import serving
from analytics.projection import METADATA, Tables
from analytics.rebuild import rebuild
from analytics.settings import AnalyticsSettings
from callcenter_events import Envelope, wrap
from callcenter_events.models import CallReceived
from callcenter_events.producer import EventProducer
from callcenter_events.store import insert_new, make_engine
from callcenter_events.topics import CALLS, Topic
from callcenter_service.settings import DEVELOPMENT_OPERATOR_TOKEN
from callcenter_testkit import eventually, inprocess
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import Column, Engine, Integer, String, Table, inspect, select, text
from sqlmodel import Session

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
CALLS_AT_FIRST, CALLS_LATER = 12_000, 300
TENANTS = ("acme", "globex", "initech")
AUTH = {"Authorization": f"Bearer {DEVELOPMENT_OPERATOR_TOKEN}"}

TALLY = Table(
    "analytics_test_tally",
    METADATA,
    Column("call_id", String(64), primary_key=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    Column("weight", Integer, nullable=False),
)


class TallyV1:
    name = "tally"
    version = 1
    weight = 1
    types: frozenset[str] = frozenset({"call.received"})
    topics: tuple[Topic, ...] = (CALLS,)
    tables: tuple[Table, ...] = (TALLY,)

    def __init__(self, delay_s: float | None = None) -> None:
        self.delay_s = (
            float(os.environ.get("TALLY_BATCH_DELAY_S", "0")) if delay_s is None else delay_s
        )

    def apply(self, session: Session, envelopes: Sequence[Envelope], tables: Tables) -> None:
        if self.delay_s:
            time.sleep(self.delay_s)
        rows = [
            {"call_id": e.data.call_id, "tenant_id": e.data.tenant_id, "weight": self.weight}
            for e in envelopes
            if isinstance(e.data, CallReceived)
        ]
        insert_new(session, tables[TALLY.name], rows)


class TallyV2(TallyV1):
    version = 2
    weight = 2


router = APIRouter()


@router.get("/test/tally")
async def tally(request: Request) -> dict[str, Any]:
    """Weighted calls per tenant, read from the stable view (whichever build is live)."""
    query = text(f"SELECT tenant_id, SUM(weight) FROM {TALLY.name} GROUP BY tenant_id")
    with serving(request).engine.connect() as connection:
        return {tenant: int(total) for tenant, total in connection.execute(query)}


def calls(count: int, seed: int) -> list[Envelope]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 2, 8, tzinfo=UTC)
    return [
        wrap(
            CallReceived(
                call_id=f"c{seed}-{n}",
                tenant_id=rng.choice(TENANTS),
                language="de",
                topic="billing",
                received_at=start + timedelta(seconds=n),
            ),
            source="/test/rebuild",
            correlation_id=f"corr-{n}",
        )
        for n in range(count)
    ]


def tallies(envelopes: Sequence[Envelope], weight: int) -> dict[str, int]:
    counted = Counter(e.data.tenant_id for e in envelopes if isinstance(e.data, CallReceived))
    return {tenant: count * weight for tenant, count in counted.items()}


async def publish(bootstrap: str, prefix: str, envelopes: Sequence[Envelope]) -> None:
    producer = EventProducer(bootstrap, client_id="rebuild-test", topic_prefix=prefix)
    await producer.start()
    try:
        await producer.publish_all(envelopes)
    finally:
        await producer.stop()


def served(app: FastAPI) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
    """The app over real HTTP, ready (its live builds caught up) before the block starts."""
    return inprocess.served(app, headers=AUTH)


def rebuild_process(settings_env: dict[str, str], delay_s: float) -> subprocess.Popen[bytes]:
    env = os.environ | settings_env | {"TALLY_BATCH_DELAY_S": str(delay_s)}
    return subprocess.Popen([sys.executable, __file__], env=env)


def build_state(engine: Engine, build: Build) -> catalog.BuildRecord | None:
    found = [r for r in catalog.records(engine, build.name) if r.build == build]
    return found[0] if found else None


def table_rows(engine: Engine, build: Build) -> list[tuple[Any, ...]]:
    table = BuildProjection(TallyV2(), build).tables[TALLY.name]
    if not inspect(engine).has_table(table.name):
        return []
    with engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(select(table)))


async def test_a_rebuild_runs_beside_the_live_build_resumes_after_a_kill_and_swaps(
    kafka_bootstrap: str, topic_prefix: str, database_url: str
) -> None:
    first = calls(CALLS_AT_FIRST, seed=1)
    await publish(kafka_bootstrap, topic_prefix, first)
    settings_env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CALLCENTER_TOPIC_PREFIX": topic_prefix,
        "DATABASE_URL": database_url,
    }
    settings = AnalyticsSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=topic_prefix,
        database_url=database_url,
        builds_poll_s=0.2,
    )
    app = create_app(settings, projections=[TallyV1()])
    app.include_router(router)
    engine = make_engine(database_url)
    v2 = Build("tally", 2, 0)
    async with served(app) as client:

        async def answers(expected: dict[str, int]) -> bool:
            answer: dict[str, int] = (await client.get("/test/tally")).json()
            return answer == expected

        await eventually(lambda: answers(tallies(first, 1)), timeout=60, what="version 1 served")

        slow = rebuild_process(settings_env, delay_s=0.4)
        try:

            async def partly_built() -> bool:
                record = await asyncio.to_thread(build_state, engine, v2)
                rows = await asyncio.to_thread(table_rows, engine, v2) if record else []
                return record is not None and len(rows) > 0

            await eventually(partly_built, timeout=60, what="the rebuild under way")
            status = (await client.get("/v1/projections")).json()["projections"]
            assert {(p["version"], p["state"]) for p in status} == {(1, "live"), (2, "building")}
            assert (await client.get("/test/tally")).json() == tallies(first, 1)
        finally:
            slow.send_signal(signal.SIGKILL)
            slow.wait()
        record = await asyncio.to_thread(build_state, engine, v2)
        assert record is not None
        assert record.state is catalog.BuildState.BUILDING
        killed_at = len(await asyncio.to_thread(table_rows, engine, v2))
        assert 0 < killed_at < CALLS_AT_FIRST, "killed midway"

        later = calls(CALLS_LATER, seed=2)
        await publish(kafka_bootstrap, topic_prefix, later)
        everything = first + later
        await eventually(
            lambda: answers(tallies(everything, 1)), timeout=30, what="v1 still updated"
        )

        resumed = rebuild_process(settings_env, delay_s=0)
        assert await asyncio.to_thread(resumed.wait, 120) == 0
        await eventually(lambda: answers(tallies(everything, 2)), timeout=10, what="v2 served")
        status = (await client.get("/v1/projections")).json()["projections"]
        assert [(p["version"], p["generation"], p["state"]) for p in status] == [(2, 0, "live")]

    resumed_rows = await asyncio.to_thread(table_rows, engine, v2)
    fresh = await rebuild(engine, settings, [TallyV1(), TallyV2()], "tally")
    assert fresh == Build("tally", 2, 1)
    assert await asyncio.to_thread(table_rows, engine, fresh) == resumed_rows
    assert len(resumed_rows) == len(everything)
    await asyncio.to_thread(engine.dispose)


async def test_a_newer_version_in_the_code_is_built_beside_the_live_one_and_swapped_in(
    kafka_bootstrap: str, topic_prefix: str, database_url: str
) -> None:
    """A deploy with version 2 registered beside version 1: served from 1 until 2 caught up."""
    first = calls(CALLS_AT_FIRST, seed=3)
    await publish(kafka_bootstrap, topic_prefix, first)
    settings = AnalyticsSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        topic_prefix=topic_prefix,
        database_url=database_url,
        builds_poll_s=0.2,
    )
    before = create_app(settings, projections=[TallyV1()])
    before.include_router(router)
    async with served(before) as client:
        assert (await client.get("/test/tally")).json() == tallies(first, 1)

    upgraded = create_app(settings, projections=[TallyV1(), TallyV2(delay_s=0.3)])
    upgraded.include_router(router)
    async with served(upgraded) as client:

        async def building() -> bool:
            status = (await client.get("/v1/projections")).json()["projections"]
            return {(p["version"], p["state"]) for p in status} == {(1, "live"), (2, "building")}

        await eventually(building, timeout=30, what="version 2 building")
        assert (await client.get("/test/tally")).json() == tallies(first, 1)

        async def swapped() -> bool:
            answer: dict[str, int] = (await client.get("/test/tally")).json()
            return answer == tallies(first, 2)

        await eventually(swapped, timeout=90, what="version 2 served")
        status = (await client.get("/v1/projections")).json()["projections"]
        assert [(p["version"], p["state"]) for p in status] == [(2, "live")]
        later = calls(CALLS_LATER, seed=4)
        await publish(kafka_bootstrap, topic_prefix, later)

        async def updated() -> bool:
            answer: dict[str, int] = (await client.get("/test/tally")).json()
            return answer == tallies(first + later, 2)

        await eventually(updated, timeout=30, what="version 2 updated after the swap")


if __name__ == "__main__":

    async def _rebuild_tally() -> None:
        settings = AnalyticsSettings()
        engine = make_engine(settings.database_url)
        build = await rebuild(engine, settings, [TallyV1(), TallyV2()], "tally")
        print(f"live: {build}", flush=True)

    asyncio.run(_rebuild_tally())
