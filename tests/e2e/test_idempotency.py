"""Idempotency-Key: retries give the first answer, across a restart of intake; misuse is 409."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from callcenter_testkit.platform import Platform, create_tenant

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

CALL = {"tenant_id": "acme", "customer_ref": "c-1", "language": "de", "topic": "billing"}


@pytest.fixture(params=["sqlite"])
def database_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/analytics.sqlite3"


async def _offered(client: httpx.AsyncClient, platform: Platform, position: str) -> int:
    report = await client.get(
        f"{platform.url('analytics')}/v1/analytics/calls",
        params={"min_position": position, "tenant_id": "acme"},
    )
    assert report.status_code == 200, report.text
    return sum(row["offered"] for row in report.json()["rows"])


async def test_a_retried_call_is_reported_once_also_after_a_restart(platform: Platform) -> None:
    intake = platform.url("intake")
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        await create_tenant(client, platform, "acme")
        key = {"Idempotency-Key": "order-4711"}
        first = await client.post(f"{intake}/v1/calls", json=CALL, headers=key)
        again = await client.post(
            f"{intake}/v1/calls", json=dict(reversed(CALL.items())), headers=key
        )
        assert first.status_code == again.status_code == 202
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"

        await asyncio.to_thread(platform.services["intake"].stop)
        await asyncio.to_thread(platform.restart, "intake")
        after_restart = await client.post(f"{intake}/v1/calls", json=CALL, headers=key)
        assert after_restart.status_code == 202
        assert after_restart.json() == first.json()

        other_body = await client.post(
            f"{intake}/v1/calls", json=CALL | {"topic": "returns"}, headers=key
        )
        assert other_body.status_code == 409
        assert other_body.json()["code"] == "idempotency_key_reused"
        assert await _offered(client, platform, first.json()["position"]) == 1


async def test_concurrent_requests_with_one_key_make_one_call(platform: Platform) -> None:
    intake = platform.url("intake")
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        await create_tenant(client, platform, "acme")
        key = {"Idempotency-Key": "burst"}
        answers = await asyncio.gather(
            *(client.post(f"{intake}/v1/calls", json=CALL, headers=key) for _ in range(20))
        )
        statuses = sorted({answer.status_code for answer in answers})
        assert set(statuses) <= {202, 409}, statuses
        accepted = {answer.text for answer in answers if answer.status_code == 202}
        assert len(accepted) == 1
        position = answers[[a.status_code for a in answers].index(202)].json()["position"]
        assert await _offered(client, platform, position) == 1


async def test_tenant_and_key_creation_are_idempotent(platform: Platform) -> None:
    intake = platform.url("intake")
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        key = {"Idempotency-Key": "onboard-globex"}
        body = {"name": "Globex"}
        first = await client.post(f"{intake}/v1/tenants", json=body, headers=key)
        again = await client.post(f"{intake}/v1/tenants", json=body, headers=key)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        tenant_id = first.json()["tenant_id"]

        key = {"Idempotency-Key": "globex-crm-key"}
        scopes = {"scopes": ["calls:write"]}
        created = await client.post(
            f"{intake}/v1/tenants/{tenant_id}/api-keys", json=scopes, headers=key
        )
        replayed = await client.post(
            f"{intake}/v1/tenants/{tenant_id}/api-keys", json=scopes, headers=key
        )
        assert created.status_code == replayed.status_code == 201
        assert replayed.json() == created.json()
        who = await client.get(
            f"{platform.url('routing')}/v1/whoami",
            headers={"Authorization": f"Bearer {created.json()['api_key']}"},
        )
        assert who.json()["tenant_id"] == tenant_id
