"""The service kit without a broker: health, readiness, problems, settings."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from callcenter_service import Operator, ProblemError, ServiceSettings, create_service_app
from fastapi import APIRouter
from pydantic import ValidationError

router = APIRouter()


@router.get("/v1/boom")
async def boom(_who: Operator) -> None:
    raise RuntimeError("a bug")


@router.get("/v1/teapot")
async def teapot() -> None:
    raise ProblemError(418, "Short and stout.", hint="tip me over")


class NeverReady:
    name = "never"

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def ready(self) -> bool:
        return False


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(operator_token="op", kafka_bootstrap_servers="127.0.0.1:1")
    app = create_service_app(
        name="kit",
        description="test",
        settings=settings,
        components=[NeverReady()],
        routers=[router],
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        yield client


async def test_livez_needs_nothing(client: httpx.AsyncClient) -> None:
    assert (await client.get("/livez")).json() == {"status": "ok"}


async def test_readyz_names_what_it_waits_for(client: httpx.AsyncClient) -> None:
    answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["checks"] == {"tenants": False, "never": False}


async def test_unexpected_errors_are_500_problems_without_internals(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/v1/boom", headers={"Authorization": "Bearer op"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert "a bug" not in answer.text


async def test_problem_extensions_are_kept(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/teapot")
    assert answer.status_code == 418
    assert answer.json() == {
        "type": "about:blank",
        "title": "I'm a Teapot",
        "status": 418,
        "detail": "Short and stout.",
        "instance": "/v1/teapot",
        "hint": "tip me over",
    }


async def test_unknown_paths_are_404_problems(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/nowhere")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_metrics_are_prometheus_text(client: httpx.AsyncClient) -> None:
    await client.get("/livez")
    answer = await client.get("/metrics")
    assert answer.headers["content-type"].startswith("text/plain")
    assert "callcenter_http_request_seconds_bucket" in answer.text


def test_production_refuses_the_development_token() -> None:
    with pytest.raises(ValidationError, match="CALLCENTER_OPERATOR_TOKEN must be set"):
        ServiceSettings(environment="production")


def test_settings_come_from_the_contract_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-0:9092")
    monkeypatch.setenv("CALLCENTER_OPERATOR_TOKEN", "s3cret")
    settings = ServiceSettings()
    assert settings.kafka_bootstrap_servers == "kafka-0:9092"
    assert settings.operator_token.get_secret_value() == "s3cret"


async def test_asyncapi_document_is_served(client: httpx.AsyncClient) -> None:
    document = (await client.get("/asyncapi.json")).json()
    assert document["asyncapi"] == "3.0.0"
    assert document["operations"] == {}  # the test service sends and reads nothing
