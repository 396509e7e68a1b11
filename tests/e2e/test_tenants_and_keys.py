"""Tenants, API keys, scopes, revocation and isolation, through all four services."""

from __future__ import annotations

import time

import httpx
import pytest
from callcenter_testkit import eventually
from callcenter_testkit.platform import SERVICES, Platform, create_api_key, create_tenant

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

CALL = {"customer_ref": "cust-1", "language": "de", "topic": "billing"}
ALL_SCOPES = ["analytics:read", "calls:read", "calls:write", "surveys:read", "surveys:write"]


def bearer(key: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['api_key']}"}


@pytest.fixture(params=["sqlite"])
def database_url(tmp_path: object) -> str:
    """These tests are about auth, not storage: SQLite is enough."""
    return f"sqlite:///{tmp_path}/analytics.sqlite3"


async def test_a_new_key_works_at_once_in_every_service(platform: Platform) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        await create_tenant(client, platform, "acme")
        key = await create_api_key(client, platform, "acme", ["calls:write", "calls:read"])
        assert key["api_key"].startswith(f"cck_{key['key_id']}_")
        for service in SERVICES:
            who = await client.get(f"{platform.url(service)}/v1/whoami", headers=bearer(key))
            assert who.status_code == 200, (service, who.text)
            assert who.json() == {
                "operator": False,
                "tenant_id": "acme",
                "key_id": key["key_id"],
                "scopes": ["calls:read", "calls:write"],
            }


async def test_tenant_creation_rules(platform: Platform) -> None:
    async with httpx.AsyncClient(timeout=10, headers=platform.auth) as client:
        intake = platform.url("intake")
        created = await client.post(
            f"{intake}/v1/tenants",
            json={"name": "Globex", "settings": {"service_level_threshold_s": 30}},
        )
        assert created.status_code == 201, created.text
        tenant = created.json()
        assert tenant["settings"]["service_level_threshold_s"] == 30
        assert tenant["settings"]["short_abandon_s"] == 5
        again = await client.post(
            f"{intake}/v1/tenants", json={"name": "Globex", "tenant_id": tenant["tenant_id"]}
        )
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        bad = await client.post(
            f"{intake}/v1/tenants", json={"name": "X", "settings": {"short_abandon_s": -1}}
        )
        assert bad.status_code == 422
        missing = await client.post(
            f"{intake}/v1/tenants/nobody/api-keys", json={"scopes": ["calls:read"]}
        )
        assert missing.status_code == 404
        no_scopes = await client.post(
            f"{intake}/v1/tenants/{tenant['tenant_id']}/api-keys", json={"scopes": []}
        )
        assert no_scopes.status_code == 422
        unknown_scope = await client.post(
            f"{intake}/v1/tenants/{tenant['tenant_id']}/api-keys", json={"scopes": ["calls:own"]}
        )
        assert unknown_scope.status_code == 422


async def test_every_scope_rule(platform: Platform) -> None:
    intake, analytics = platform.url("intake"), platform.url("analytics")
    async with httpx.AsyncClient(timeout=10) as client:
        await create_tenant(client, platform, "acme")
        reader = await create_api_key(client, platform, "acme", ["calls:read"])
        writer = await create_api_key(client, platform, "acme", ["calls:write"])
        analyst = await create_api_key(client, platform, "acme", ["analytics:read"])
        everything = await create_api_key(client, platform, "acme", ALL_SCOPES)

        cases = [
            ("POST", f"{intake}/v1/calls", reader, 403),
            ("POST", f"{intake}/v1/calls", analyst, 403),
            ("POST", f"{intake}/v1/calls", writer, 202),
            ("GET", f"{intake}/v1/calls", writer, 403),
            ("GET", f"{intake}/v1/calls", reader, 200),
            ("GET", f"{intake}/v1/calls", analyst, 403),
            ("GET", f"{analytics}/v1/analytics/calls", writer, 403),
            ("GET", f"{analytics}/v1/analytics/calls", analyst, 200),
            ("GET", f"{analytics}/v1/projections", reader, 403),
            ("GET", f"{analytics}/v1/projections", analyst, 200),
            ("POST", f"{intake}/v1/tenants", everything, 403),
            ("POST", f"{intake}/v1/tenants/acme/api-keys", everything, 403),
            ("DELETE", f"{intake}/v1/tenants/acme/api-keys/{reader['key_id']}", everything, 403),
        ]
        for method, url, key, expected in cases:
            body: dict[str, object] | None = None
            if url.endswith("/calls") and method == "POST":
                body = dict(CALL)
            if url.endswith("/tenants"):
                body = {"name": "Sneaky"}
            elif url.endswith("/api-keys"):
                body = {"scopes": ["calls:read"]}
            answer = await client.request(method, url, json=body, headers=bearer(key))
            assert answer.status_code == expected, (method, url, key["key_id"], answer.text)
            if expected >= 400:
                assert answer.headers["content-type"] == "application/problem+json"

        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
            answer = await client.post(f"{intake}/v1/calls", json=CALL, headers=headers)
            assert answer.status_code == 401
            assert answer.headers["www-authenticate"] == "Bearer"
        forged = "cck_" + reader["key_id"] + "_" + "x" * 43
        answer = await client.get(
            f"{analytics}/v1/whoami", headers={"Authorization": f"Bearer {forged}"}
        )
        assert answer.status_code == 401


async def test_a_revoked_key_is_refused_by_all_four_services_within_2_seconds(
    platform: Platform,
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        await create_tenant(client, platform, "acme")
        key = await create_api_key(client, platform, "acme", ALL_SCOPES)
        for service in SERVICES:
            who = await client.get(f"{platform.url(service)}/v1/whoami", headers=bearer(key))
            assert who.status_code == 200

        revoked = await client.delete(
            f"{platform.url('intake')}/v1/tenants/acme/api-keys/{key['key_id']}",
            headers=platform.auth,
        )
        revoked_at = time.monotonic()
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["revoked"] is True

        async def refused_everywhere() -> bool:
            answers = [
                await client.get(f"{platform.url(s)}/v1/whoami", headers=bearer(key))
                for s in SERVICES
            ]
            return all(answer.status_code == 401 for answer in answers)

        await eventually(refused_everywhere, timeout=2.0, interval=0.02, what="refused by all four")
        print(f"revocation reached all four services in {time.monotonic() - revoked_at:.3f} s")
        again = await client.delete(
            f"{platform.url('intake')}/v1/tenants/acme/api-keys/{key['key_id']}",
            headers=platform.auth,
        )
        assert again.status_code == 200
        assert again.json()["position"] is None


async def test_another_tenants_data_is_404_and_unchanged(platform: Platform) -> None:
    intake, analytics = platform.url("intake"), platform.url("analytics")
    async with httpx.AsyncClient(timeout=10) as client:
        for tenant in ("acme", "globex"):
            await create_tenant(client, platform, tenant)
        acme = await create_api_key(client, platform, "acme", ALL_SCOPES)
        globex = await create_api_key(client, platform, "globex", ALL_SCOPES)
        posted = await client.post(f"{intake}/v1/calls", json=CALL, headers=bearer(acme))
        assert posted.status_code == 202
        position = posted.json()["position"]

        as_globex = [
            await client.get(f"{intake}/v1/tenants/acme", headers=bearer(globex)),
            await client.post(
                f"{intake}/v1/calls", json=CALL | {"tenant_id": "acme"}, headers=bearer(globex)
            ),
            await client.get(
                f"{analytics}/v1/analytics/calls",
                params={"tenant_id": "acme"},
                headers=bearer(globex),
            ),
        ]
        assert [answer.status_code for answer in as_globex] == [404, 404, 404]

        own = await client.get(
            f"{analytics}/v1/analytics/calls",
            params={"min_position": position},
            headers=bearer(globex),
        )
        assert own.json()["rows"] == []
        acme_rows = await client.get(
            f"{analytics}/v1/analytics/calls",
            params={"min_position": position},
            headers=bearer(acme),
        )
        assert [(r["tenant_id"], r["offered"]) for r in acme_rows.json()["rows"]] == [("acme", 1)]


async def test_a_key_over_its_tenants_rate_gets_429_with_retry_after(platform: Platform) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        created = await client.post(
            f"{platform.url('intake')}/v1/tenants",
            json={"tenant_id": "slow", "name": "Slow", "settings": {"api_rate_limit_per_s": 1}},
            headers=platform.auth,
        )
        assert created.status_code == 201
        key = await create_api_key(client, platform, "slow", ["calls:read"])
        answers = [
            await client.get(f"{platform.url('surveys')}/v1/whoami", headers=bearer(key))
            for _ in range(4)
        ]
        assert [a.status_code for a in answers] == [200, 200, 429, 429]
        assert answers[2].headers["retry-after"] == "1"
        assert answers[2].headers["content-type"] == "application/problem+json"
