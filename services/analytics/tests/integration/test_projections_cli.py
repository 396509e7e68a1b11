"""`python -m analytics projections list|rebuild|status`, run as an operator would run it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from callcenter_events import wrap
from callcenter_events.models import CallWrappedUp
from callcenter_events.producer import EventProducer
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.kafka


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "analytics", "projections", *args]
    return subprocess.run(
        command, env=os.environ | env, capture_output=True, text=True, timeout=120, check=False
    )


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def wrapped_up_calls(bootstrap: str, prefix: str, count: int) -> None:
    producer = EventProducer(bootstrap, client_id="cli-test", topic_prefix=prefix)
    await producer.start()
    try:
        at = datetime(2026, 11, 2, 9, tzinfo=UTC)
        events = [
            CallWrappedUp(call_id=f"c{n}", tenant_id="acme", disposition="solved", wrapped_up_at=at)
            for n in range(count)
        ]
        await producer.publish_all([wrap(e, source="/test", correlation_id="c") for e in events])
    finally:
        await producer.stop()


async def test_list_rebuild_and_status(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    await wrapped_up_calls(kafka_bootstrap, topic_prefix, 250)
    database = tmp_path / "analytics.sqlite3"
    env = {
        "DATABASE_URL": f"sqlite:///{database}",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CALLCENTER_TOPIC_PREFIX": topic_prefix,
    }
    listed = as_json(await asyncio.to_thread(cli, env, "list", "--json"))
    assert {p["name"] for p in listed} >= {"calls", "agents", "surveys", "dispositions"}
    assert all(p["live"] is None for p in listed)

    for generation in (0, 1):
        done = await asyncio.to_thread(cli, env, "rebuild", "dispositions")
        assert done.returncode == 0, done.stderr
        assert f"dispositions@v1{'#g1' if generation else ''} is live" in done.stdout
    status = as_json(await asyncio.to_thread(cli, env, "status", "--json"))
    [live] = [p for p in status if p["name"] == "dispositions"]
    assert (live["version"], live["generation"], live["state"]) == (1, 1, "live")
    assert (live["position"], live["lag"]) == (250, 0)
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM analytics_dispositions")).scalar()
    engine.dispose()
    assert count == 250

    unknown = await asyncio.to_thread(cli, env, "rebuild", "nope")
    assert unknown.returncode == 2
    assert "no projection 'nope'" in unknown.stdout
