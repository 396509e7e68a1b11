"""Routing's failover: one active owner, a standby that takes over when the owner dies."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from callcenter_events.topics import AGENTS, ROUTING, TENANTS
from callcenter_testkit import eventually
from callcenter_testkit.platform import Platform, create_tenant
from callcenter_testkit.traces import log_events

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

AGENT = {"name": "Ada", "skills": {"tenant:acme": 1, "lang:de": 5, "topic:billing": 5}}
CALL = {"tenant_id": "acme", "caller_phone": "+4930123456", "language": "de", "topic": "billing"}


@pytest.fixture(params=["sqlite"])
def database_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/analytics.sqlite3"


async def test_the_standby_takes_over_with_the_open_offer_when_the_owner_is_killed(
    platform: Platform, kafka_bootstrap: str
) -> None:
    owner = platform.services["routing"]
    standby = platform.another("routing")
    try:
        standby.wait_ready()
        async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
            stands_by = await client.get(f"{standby.url}/v1/agents")
            assert stands_by.status_code == 503, stands_by.text
            assert "stands by" in stands_by.json()["detail"]

            await create_tenant(client, platform, "acme")
            assert (await client.put(f"{owner.url}/v1/agents/ada", json=AGENT)).status_code == 201
            status = {"status": "available"}
            assert (await client.put(f"{owner.url}/v1/agents/ada/status", json=status)).is_success
            answer = await client.post(f"{platform.url('intake')}/v1/calls", json=CALL)
            call_id = answer.json()["call_id"]

            async def offer_on(url: str) -> str | None:
                view = await client.get(f"{url}/v1/agents/ada")
                if view.status_code != 200:
                    return None
                offers = view.json()["offers"]
                return str(offers[0]["offer_id"]) if offers else None

            offer_id = await eventually(lambda: offer_on(owner.url), what="offer by the owner")
            owner.kill()
            killed = time.monotonic()
            taken_over = await eventually(
                lambda: offer_on(standby.url), timeout=45, interval=0.2, what="the standby serves"
            )
            assert taken_over == offer_id, "the open offer survived the owner"
            await asyncio.to_thread(standby.wait_ready, 45)  # and it reads intake's calls
            takeover_s = time.monotonic() - killed

            accepted = await client.post(f"{standby.url}/v1/offers/{offer_id}/accept")
            assert accepted.status_code == 200, accepted.text
            second = await client.post(f"{platform.url('intake')}/v1/calls", json=CALL)
            assert second.status_code == 202
    finally:
        standby.stop()
    print(f"routing failover: the standby served {takeover_s:.1f} s after SIGKILL of the owner")
    await _facts_numbered_once(kafka_bootstrap, platform.topic_prefix, call_id)


async def _facts_numbered_once(bootstrap: str, prefix: str, call_id: str) -> None:
    """Both owners' facts together: one unbroken sequence, no number used twice."""
    topics = [t.name(prefix) for t in (ROUTING, AGENTS, TENANTS)]
    facts = [e for e in await log_events(bootstrap, topics) if e.source == "/callcenter/routing"]
    numbers = sorted(e.data.seq for e in facts)  # type: ignore[attr-defined]
    assert numbers == list(range(1, len(numbers) + 1))
    connected = [e for e in facts if e.type == "call.connected"]
    assert [e.data.call_id for e in connected] == [call_id]  # type: ignore[attr-defined]
