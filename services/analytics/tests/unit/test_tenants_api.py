"""`GET /v1/analytics/tenants`: the operator's tenant picker; a key sees its own tenant only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from analytics.app import create_app
from analytics.settings import AnalyticsSettings
from callcenter_events import wrap
from callcenter_events.models import ApiKeyCreated, Scope, TenantCreated, TenantSettings
from callcenter_service.directory import hash_key, new_api_key
from fastapi import FastAPI

OPERATOR = "unit-operator-token"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def tenant(tenant_id: str, threshold_s: int) -> TenantCreated:
    settings = TenantSettings(service_level_threshold_s=threshold_s, short_abandon_s=3)
    return TenantCreated(
        tenant_id=tenant_id, name=tenant_id.title(), settings=settings, created_at=T0
    )


def key_of(app: FastAPI, tenant_id: str, scopes: list[Scope]) -> str:
    key_id, api_key = new_api_key()
    created = ApiKeyCreated(
        tenant_id=tenant_id, key_id=key_id, scopes=scopes, key_hash=hash_key(api_key), created_at=T0
    )
    app.state.directory.directory.apply(wrap(created, source="/test", correlation_id="c"))
    return api_key


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    settings = AnalyticsSettings(
        operator_token=OPERATOR,
        kafka_bootstrap_servers="127.0.0.1:1",
        database_url=f"sqlite:///{tmp_path / 'analytics.sqlite3'}",
    )
    app = create_app(settings)  # no lifespan: the directory is fed by hand
    for created in (tenant("globex", 30), tenant("acme", 20)):
        app.state.directory.directory.apply(wrap(created, source="/test", correlation_id="c"))
    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://analytics") as client:
        yield client


async def listed(client: httpx.AsyncClient, token: str, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return await client.get("/v1/analytics/tenants", params=params, headers=headers)


async def test_the_operator_sees_every_tenant_with_its_thresholds(
    client: httpx.AsyncClient,
) -> None:
    answer = await listed(client, OPERATOR)
    assert answer.status_code == 200
    assert answer.json()["tenants"] == [
        {
            "tenant_id": "acme",
            "name": "Acme",
            "service_level_threshold_s": 20,
            "short_abandon_s": 3,
        },
        {
            "tenant_id": "globex",
            "name": "Globex",
            "service_level_threshold_s": 30,
            "short_abandon_s": 3,
        },
    ]
    one = await listed(client, OPERATOR, tenant_id="globex")
    assert [t["tenant_id"] for t in one.json()["tenants"]] == ["globex"]
    assert (await listed(client, OPERATOR, tenant_id="initech")).status_code == 404


async def test_a_key_sees_its_own_tenant_only(app: FastAPI, client: httpx.AsyncClient) -> None:
    key = key_of(app, "acme", [Scope.ANALYTICS_READ])
    answer = await listed(client, key)
    assert [t["tenant_id"] for t in answer.json()["tenants"]] == ["acme"]
    foreign = await listed(client, key, tenant_id="globex")
    assert foreign.status_code == 404
    assert foreign.headers["content-type"] == "application/problem+json"


async def test_a_key_without_analytics_read_is_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    key = key_of(app, "acme", [Scope.CALLS_READ])
    assert (await listed(client, key)).status_code == 403
    assert (
        await listed(client, "cck_0000000000000000_wrongwrongwrongwrongwrong")
    ).status_code == 401
