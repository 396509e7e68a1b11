"""One call through all four services, over real HTTP and the real broker."""

from __future__ import annotations

import io
import re
from csv import DictReader

import httpx
import pytest
from callcenter_testkit import eventually
from callcenter_testkit.platform import Platform, create_tenant

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

CALL = {"tenant_id": "acme", "caller_phone": "+4930123456", "language": "de", "topic": "billing"}


async def test_a_reported_call_is_queued_followed_and_counted(platform: Platform) -> None:
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        await create_tenant(client, platform, "acme")
        answer = await client.post(f"{platform.url('intake')}/v1/calls", json=CALL)
        assert answer.status_code == 202, answer.text
        accepted = answer.json()
        assert re.fullmatch(r".+:\d+:\d+", accepted["position"])

        report = await client.get(
            f"{platform.url('analytics')}/v1/analytics/calls",
            params={"min_position": accepted["position"], "tenant_id": "acme"},
        )
        assert report.status_code == 200, report.text
        assert [row["offered"] for row in report.json()["rows"]] == [1]

        async def surveys_saw_the_queued_call() -> bool:
            metrics = (await client.get(f"{platform.url('surveys')}/metrics")).text
            return 'callcenter_surveys_call_events_total{type="call.queued"} 1.0' in metrics

        await eventually(surveys_saw_the_queued_call, timeout=15, what="routing queued the call")


async def test_analytics_csv_and_projection_status(platform: Platform) -> None:
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        await create_tenant(client, platform, "acme")
        answer = await client.post(f"{platform.url('intake')}/v1/calls", json=CALL)
        position = answer.json()["position"]
        csv = await client.get(
            f"{platform.url('analytics')}/v1/analytics/calls",
            params={"min_position": position, "group_by": "topic,language"},
            headers={"Accept": "text/csv"},
        )
        assert csv.headers["content-type"].startswith("text/csv")
        [row] = list(DictReader(io.StringIO(csv.text)))
        contract = ["period_start", "tenant_id", "topic", "language", "offered", "answered"]
        assert list(row)[: len(contract)] == contract
        assert (row["tenant_id"], row["topic"], row["language"]) == ("acme", "billing", "de")
        assert (row["offered"], row["answered"], row["service_level"]) == ("1", "0", "")
        status = (await client.get(f"{platform.url('analytics')}/v1/projections")).json()
        [calls] = [p for p in status["projections"] if p["name"] == "calls"]
        assert (calls["name"], calls["version"], calls["state"]) == ("calls", 2, "live")
        assert calls["position"] >= 1


async def test_bad_requests_are_problems_not_errors(platform: Platform) -> None:
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        bad = await client.get(
            f"{platform.url('analytics')}/v1/analytics/calls", params={"group_by": "shoe_size"}
        )
        assert bad.status_code == 400
        assert bad.headers["content-type"] == "application/problem+json"
        naive = await client.get(
            f"{platform.url('analytics')}/v1/analytics/calls", params={"from": "2026-01-01T00:00"}
        )
        assert naive.status_code == 400


def test_sigterm_shuts_every_service_down_cleanly(platform: Platform) -> None:
    for name, service in platform.services.items():
        # uvicorn finishes its shutdown, then re-raises the signal it caught: serve() exits 0
        assert service.stop() == 0, name
        assert "Application shutdown complete" in service.log_tail(), service.log_tail()
