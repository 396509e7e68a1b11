"""An HTTP request's trace context is what the events it writes carry: its `traceparent` header,
or one new trace for the whole request; its correlation id is bound meanwhile."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from callcenter_events.handling import correlation_id, trace_headers
from callcenter_events.testing import call_received
from callcenter_service.correlation import CorrelationMiddleware
from fastapi import FastAPI

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def build() -> FastAPI:
    app = FastAPI()
    app.add_middleware(CorrelationMiddleware)

    @app.post("/v1/events")
    async def write_two() -> dict[str, object]:
        """What the producer would write for two events of this request."""
        parents = [dict(trace_headers(call_received(f"c-{n}")))["traceparent"] for n in (1, 2)]
        return {"traceparents": [p.decode() for p in parents], "flow": correlation_id.get()}

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_the_callers_traceparent_is_what_the_events_carry(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/v1/events", headers={"traceparent": CALLER, "x-correlation-id": "f"}
    )
    assert answer.json() == {"traceparents": [CALLER, CALLER], "flow": "f"}
    assert correlation_id.get() == ""


async def test_without_one_the_request_is_one_new_trace(client: httpx.AsyncClient) -> None:
    first = (await client.post("/v1/events")).json()["traceparents"]
    second = (await client.post("/v1/events")).json()["traceparents"]
    assert first[0] == first[1], "one request, one trace"
    assert first[0].split("-")[1] != second[0].split("-")[1], "another request, another trace"


async def test_a_broken_traceparent_is_ignored(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/events", headers={"traceparent": "00-zz-nonsense-01"})
    assert answer.status_code == 200
    [first, _] = answer.json()["traceparents"]
    assert first != "00-zz-nonsense-01"
    assert int(first.split("-")[1], 16) != 0
