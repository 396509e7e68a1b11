"""10,000 calls streamed while analytics is killed with SIGKILL: exactly 10,000 are counted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from callcenter_testkit import eventually
from callcenter_testkit.platform import Platform, create_tenant

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(600)]

CALLS = 10_000
KILL_AFTER = 3_000
CONCURRENCY = 8


async def _stream_calls(client: httpx.AsyncClient, url: str, on_progress: asyncio.Event) -> int:
    accepted = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(CALLS):
        queue.put_nowait(number)

    async def worker() -> None:
        nonlocal accepted
        while not queue.empty():
            number = queue.get_nowait()
            body = {
                "tenant_id": f"tenant-{number % 3}",
                "customer_ref": f"customer-{number}",
                "language": "de",
                "topic": "billing",
            }
            answer = await client.post(f"{url}/v1/calls", json=body)
            assert answer.status_code == 202, answer.text
            accepted += 1
            if accepted == KILL_AFTER:
                on_progress.set()

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return accepted


async def _offered_total(client: httpx.AsyncClient, url: str) -> int:
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    report = await client.get(
        f"{url}/v1/analytics/calls", params={"from": since, "interval": "month"}
    )
    assert report.status_code == 200, report.text
    return sum(row["offered"] for row in report.json()["rows"])


async def test_analytics_killed_mid_stream_counts_every_call_once(platform: Platform) -> None:
    analytics = platform.services["analytics"]
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(headers=platform.auth, timeout=30, limits=limits) as client:
        for number in range(3):
            await create_tenant(client, platform, f"tenant-{number}")
        halfway = asyncio.Event()
        stream = asyncio.create_task(_stream_calls(client, platform.url("intake"), halfway))
        await halfway.wait()
        analytics.kill()
        await asyncio.to_thread(platform.restart, "analytics")
        assert await stream == CALLS

        async def all_counted() -> int:
            total = await _offered_total(client, platform.url("analytics"))
            return total if total >= CALLS else 0

        await eventually(all_counted, timeout=120, interval=0.25, what="10,000 counted")

        async def caught_up() -> bool:
            status = await client.get(f"{platform.url('analytics')}/v1/projections")
            [calls] = [p for p in status.json()["projections"] if p["name"] == "calls"]
            return bool(calls["state"] == "live" and calls["lag"] == 0)

        await eventually(caught_up, timeout=30, what="analytics caught up with the log")
        assert await _offered_total(client, platform.url("analytics")) == CALLS
