"""Intake's HTTP contract without a broker: auth and validation answer before any event."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from intake.app import create_app
from intake.settings import IntakeSettings

TOKEN = "unit-test-operator-token"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = IntakeSettings(operator_token=TOKEN, kafka_bootstrap_servers="127.0.0.1:1")
    transport = httpx.ASGITransport(app=create_app(settings))  # no lifespan: Kafka not started
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        yield client


def _call(**changes: object) -> dict[str, object]:
    return {
        "tenant_id": "acme",
        "caller_phone": "+493012345678",
        "language": "de",
        "topic": "billing",
    } | changes


async def test_missing_token_is_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/calls", json=_call())
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_wrong_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/calls", json=_call(), headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("changes", "location"),
    [
        ({"caller_phone": "030 1234"}, "caller_phone"),
        ({"priority": 11}, "priority"),
        ({"language": "not a tag"}, "language"),
        ({"required_skills": {"lang:de": 0}}, "required_skills"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_invalid_bodies_are_422_problems_naming_the_field(
    client: httpx.AsyncClient, changes: dict[str, object], location: str
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    response = await client.post("/v1/calls", json=_call(**changes), headers=auth)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert any(location in map(str, err["location"]) for err in response.json()["errors"])


async def test_a_caller_must_be_named(client: httpx.AsyncClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = _call(caller_phone=None)
    response = await client.post("/v1/calls", json=body, headers=auth)
    assert response.status_code == 422


async def test_without_a_broker_a_valid_call_is_503_not_500(client: httpx.AsyncClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    response = await client.post("/v1/calls", json=_call(), headers=auth)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"


async def test_correlation_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/livez", headers={"X-Correlation-ID": "abc-123"})
    assert response.json() == {"status": "ok"}
    assert response.headers["x-correlation-id"] == "abc-123"
