from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from callcenter_service import ProblemError, ServiceSettings, create_service_app
from callcenter_service.limits import RateLimiter
from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

router = APIRouter()


class Note(BaseModel):
    text: str


@router.post("/v1/notes")
async def post_note(note: Note) -> dict[str, int]:
    return {"length": len(note.text)}


@router.post("/v1/notes/import")
async def import_notes(request: Request) -> dict[str, int]:
    try:
        return {"length": sum([len(chunk) async for chunk in request.stream()])}
    except ClientDisconnect:  # the limit cut the body off (or the client went away)
        raise ProblemError(400, "The upload broke off.") from None


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(max_body_bytes=2048, kafka_bootstrap_servers="127.0.0.1:1")
    app = create_service_app(
        name="kit",
        description="t",
        settings=settings,
        components=[],
        routers=[router],
        body_limits={"/v1/notes/import": 8192},
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        yield client


async def test_a_body_within_the_limit_passes(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/notes", json={"text": "x" * 1000})
    assert answer.json() == {"length": 1000}


async def test_a_declared_large_body_is_413_problem(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/notes", json={"text": "x" * 5000})
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert "2048 bytes" in answer.json()["detail"]


async def test_a_streamed_large_body_is_413_too(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}'

    answer = await client.post("/v1/notes", content=chunks())
    assert answer.status_code == 413


async def test_a_streaming_path_has_a_limit_of_its_own(client: httpx.AsyncClient) -> None:
    async def chunks(count: int) -> AsyncIterator[bytes]:
        for _ in range(count):
            yield b"z" * 1000

    assert (await client.post("/v1/notes/import", content=chunks(5))).json() == {"length": 5000}
    over = await client.post("/v1/notes/import", content=chunks(9))
    assert over.status_code == 413
    assert "8192 bytes" in over.json()["detail"]


def test_the_bucket_allows_a_burst_then_the_rate() -> None:
    limiter = RateLimiter()
    allowed = [limiter.wait_needed("k", rate=5, now=100.0) == 0 for _ in range(12)]
    assert allowed == [True] * 10 + [False] * 2  # 2 s of burst at 5/s
    assert limiter.wait_needed("k", rate=5, now=100.0) == pytest.approx(0.2)
    assert limiter.wait_needed("k", rate=5, now=100.2) == 0  # one token back after 1/5 s
    assert limiter.wait_needed("other", rate=5, now=100.0) == 0  # buckets are per key
