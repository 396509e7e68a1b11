"""The call lifecycle through intake: states, timeline, illegal transitions, isolation, pages."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from callcenter_events.topics import CALLS
from callcenter_testkit import eventually
from callcenter_testkit.platform import Platform, create_api_key, create_tenant

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

CALL = {"tenant_id": "acme", "caller_phone": "+4930123456", "language": "de", "topic": "billing"}
ALL_SCOPES = ["analytics:read", "calls:read", "calls:write", "surveys:read", "surveys:write"]


@pytest.fixture(params=["sqlite"])
def database_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/analytics.sqlite3"


async def _new_call(client: httpx.AsyncClient, platform: Platform, **changes: object) -> str:
    answer = await client.post(f"{platform.url('intake')}/v1/calls", json=CALL | changes)
    assert answer.status_code == 202, answer.text
    call_id: str = answer.json()["call_id"]
    return call_id


async def _event_types_in_log(platform: Platform, bootstrap: str, call_id: str) -> list[str]:
    consumer = AIOKafkaConsumer(
        CALLS.name(platform.topic_prefix), bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    types: list[str] = []
    try:
        while True:
            polled = await consumer.getmany(timeout_ms=1000)
            if not polled:
                return types
            for messages in polled.values():
                types += [
                    dict(m.headers)["ce_type"].decode()
                    for m in messages
                    if m.key == call_id.encode()
                ]
    finally:
        await consumer.stop()


async def test_a_call_is_queued_then_abandoned_with_its_timeline(platform: Platform) -> None:
    intake = platform.url("intake")
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        await create_tenant(client, platform, "acme")
        call_id = await _new_call(client, platform)

        async def queued_by_routing() -> list[str]:
            view = (await client.get(f"{intake}/v1/calls/{call_id}")).json()
            types = [item["type"] for item in view["timeline"]]
            return types if "call.queued" in types else []

        assert await eventually(queued_by_routing, timeout=15) == ["call.received", "call.queued"]
        hung_up = await client.post(f"{intake}/v1/calls/{call_id}/hangup", json={"by": "caller"})
        assert hung_up.status_code == 202, hung_up.text
        assert hung_up.json()["state"] == "abandoned"
        view = (await client.get(f"{intake}/v1/calls/{call_id}")).json()
        assert view["state"] == "abandoned"
        assert view["received_at"].endswith(("Z", "+00:00")), "times carry their offset"
        assert all(item["time"].endswith(("Z", "+00:00")) for item in view["timeline"])
        assert view["timeline"][-1]["type"] == "call.abandoned"

        again = await client.post(f"{intake}/v1/calls/{call_id}/hangup", json={"by": "agent"})
        wrap = await client.post(
            f"{intake}/v1/calls/{call_id}/wrap-up", json={"disposition": "resolved"}
        )
        assert [again.status_code, wrap.status_code] == [409, 409]
        assert again.json()["code"] == wrap.json()["code"] == "illegal_transition"


async def test_wrap_up_before_the_conversation_ended_is_409(platform: Platform) -> None:
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        await create_tenant(client, platform, "acme")
        call_id = await _new_call(client, platform)
        wrap = await client.post(
            f"{platform.url('intake')}/v1/calls/{call_id}/wrap-up", json={"disposition": "x"}
        )
        assert wrap.status_code == 409
        inbound_outcome = await client.post(
            f"{platform.url('intake')}/v1/calls/{call_id}/hangup",
            json={"by": "caller", "outcome": "busy"},
        )
        assert inbound_outcome.status_code == 422


async def test_a_read_can_wait_for_its_own_write(platform: Platform) -> None:
    intake = platform.url("intake")
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        await create_tenant(client, platform, "acme")
        posted = (await client.post(f"{intake}/v1/calls", json=CALL)).json()
        view = await client.get(
            f"{intake}/v1/calls/{posted['call_id']}", params={"min_position": posted["position"]}
        )
        assert view.status_code == 200
        assert view.json()["state"] == "queued"
        foreign = await client.get(
            f"{intake}/v1/calls/{posted['call_id']}", params={"min_position": "elsewhere:0:1"}
        )
        assert foreign.status_code == 400


async def test_50_concurrent_hangups_write_one_event(
    platform: Platform, kafka_bootstrap: str
) -> None:
    async with httpx.AsyncClient(
        headers=platform.auth, timeout=30, limits=httpx.Limits(max_connections=50)
    ) as client:
        await create_tenant(client, platform, "acme")
        call_id = await _new_call(client, platform)
        url = f"{platform.url('intake')}/v1/calls/{call_id}/hangup"
        answers = await asyncio.gather(
            *(client.post(url, json={"by": "caller"}) for _ in range(50))
        )
        statuses = [answer.status_code for answer in answers]
        assert statuses.count(202) == 1, statuses
        assert statuses.count(409) == 49, statuses
    types = await _event_types_in_log(platform, kafka_bootstrap, call_id)
    assert types == ["call.received", "call.abandoned"]


async def test_another_tenant_can_neither_see_nor_change_a_call(platform: Platform) -> None:
    intake = platform.url("intake")
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        for tenant in ("acme", "globex"):
            await create_tenant(client, platform, tenant)
        call_id = await _new_call(client, platform)
        globex = await create_api_key(client, platform, "globex", ALL_SCOPES)
        as_globex = {"Authorization": f"Bearer {globex['api_key']}"}
        answers = [
            await client.get(f"{intake}/v1/calls/{call_id}", headers=as_globex),
            await client.post(
                f"{intake}/v1/calls/{call_id}/hangup", json={"by": "caller"}, headers=as_globex
            ),
            await client.post(
                f"{intake}/v1/calls/{call_id}/wrap-up", json={"disposition": "x"}, headers=as_globex
            ),
            await client.get(f"{intake}/v1/calls", params={"tenant_id": "acme"}, headers=as_globex),
        ]
        assert [answer.status_code for answer in answers] == [404, 404, 404, 404]
        listed = await client.get(f"{intake}/v1/calls", headers=as_globex)
        assert listed.json()["calls"] == []
        view = (await client.get(f"{intake}/v1/calls/{call_id}")).json()
        assert view["state"] == "queued"
        assert "call.abandoned" not in [item["type"] for item in view["timeline"]]


async def test_calls_are_listed_newest_first_in_cursor_pages(platform: Platform) -> None:
    intake = platform.url("intake")
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        await create_tenant(client, platform, "acme")
        posted = [
            (await client.post(f"{intake}/v1/calls", json=CALL | {"topic": f"t{i % 2}"})).json()
            for i in range(5)
        ]
        created = [answer["call_id"] for answer in posted]
        for answer in posted:  # read-your-writes: each call is in the list's store
            params_one = {"min_position": answer["position"]}
            await client.get(f"{intake}/v1/calls/{answer['call_id']}", params=params_one)
        seen: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            params: dict[str, str | int] = {"limit": 2, "tenant_id": "acme"}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get(f"{intake}/v1/calls", params=params)).json()
            seen += [call["call_id"] for call in page["calls"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == list(reversed(created))
        assert pages == 3
        by_topic = (await client.get(f"{intake}/v1/calls", params={"topic": "t0"})).json()
        assert len(by_topic["calls"]) == 3
        bad = await client.get(f"{intake}/v1/calls", params={"cursor": "not-ours"})
        assert bad.status_code == 400
