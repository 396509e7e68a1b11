"""Every tenant endpoint of surveys: another tenant's key finds nothing and changes nothing,
a key without the scope is refused. The list of endpoints is checked against surveys' own
OpenAPI document, so an endpoint added later cannot slip past this sweep."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from callcenter_testkit.platform import Platform, create_api_key, create_tenant

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

REF = "crm-4711"
CUSTOMER = {
    "phone": "+4930999111",
    "language": "de",
    "timezone": "Europe/Berlin",
    "segment": {"region": "north"},
    "consent": {"marketing_calls": True, "source": "web-form", "at": "2026-02-01T10:00:00Z"},
}
SURVEY = {
    "name": "Price and packaging",
    "kind": "campaign",
    "questions": [{"id": "nps", "type": "nps", "text": "Recommend us?", "required": True}],
}
WINDOW = {"start": "09:00", "end": "18:00"}
CAMPAIGN_RULES = {"window": WINDOW, "max_attempts": 1, "retry_after_s": 600, "rest_days": 0}


@pytest.fixture(params=["sqlite"])
def database_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/analytics.sqlite3"


@dataclass(frozen=True)
class Case:
    method: str
    template: str
    path: str
    foreign: int = 404  # what another tenant's key gets
    scope: str = "surveys:write"
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


def _cases(survey_id: str, campaign_id: str, call_id: str) -> list[Case]:
    customer, survey = f"/v1/customers/{REF}", f"/v1/surveys/{survey_id}"
    campaign = f"/v1/campaigns/{campaign_id}"
    acme = {"tenant_id": "acme"}
    line = b'{"customer_ref": "x-1", "phone": "+4930111", "language": "de", "timezone": "UTC"}\n'
    return [
        Case("GET", "/v1/customers/{customer_ref}", customer, scope="surveys:read"),
        Case("PUT", "/v1/customers/{customer_ref}", customer, body=CUSTOMER, params=acme),
        Case("DELETE", "/v1/customers/{customer_ref}", customer),
        Case(
            "GET",
            "/v1/customers/{customer_ref}/consent",
            f"{customer}/consent",
            scope="surveys:read",
        ),
        Case(
            "POST",
            "/v1/customers/{customer_ref}/consent",
            f"{customer}/consent",
            body={"marketing_calls": False, "source": "call", "at": "2026-03-01T10:00:00Z"},
        ),
        Case("POST", "/v1/customers/import", "/v1/customers/import", params=acme, content=line),
        Case("POST", "/v1/surveys", "/v1/surveys", body=SURVEY | acme),
        Case("GET", "/v1/surveys/{survey_id}", survey, scope="surveys:read"),
        Case("PUT", "/v1/surveys/{survey_id}", survey, body=SURVEY),
        Case(
            "POST",
            "/v1/surveys/{survey_id}/responses",
            f"{survey}/responses",
            body={"customer_ref": REF, "answers": {"nps": 3}},
        ),
        Case(
            "POST",
            "/v1/campaigns",
            "/v1/campaigns",
            foreign=422,  # acme's survey is unknown to globex
            body={"survey_id": survey_id, "audience": {}, **CAMPAIGN_RULES},
        ),
        Case("GET", "/v1/campaigns/{campaign_id}", campaign, scope="surveys:read"),
        Case("POST", "/v1/campaigns/{campaign_id}/stop", f"{campaign}/stop"),
        Case(
            "GET",
            "/v1/invitations",
            "/v1/invitations",
            foreign=200,  # a list: globex's own, which is empty
            scope="surveys:read",
            params={"call_id": call_id},
        ),
    ]


async def _send(client: httpx.AsyncClient, base: str, case: Case, key: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    if case.content is not None:
        headers["Content-Type"] = "application/x-ndjson"
    return await client.request(
        case.method,
        f"{base}{case.path}",
        json=case.body,
        content=case.content,
        params=case.params,
        headers=headers,
    )


async def _acme_state(client: httpx.AsyncClient, base: str, key: str, ids: dict[str, str]) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    customer = (await client.get(f"{base}/v1/customers/{REF}", headers=headers)).json()
    consent = (await client.get(f"{base}/v1/customers/{REF}/consent", headers=headers)).json()
    survey = (await client.get(f"{base}/v1/surveys/{ids['survey']}", headers=headers)).json()
    campaign = (await client.get(f"{base}/v1/campaigns/{ids['campaign']}", headers=headers)).json()
    return (
        customer["phone"],
        customer["consent"],
        len(consent["history"]),
        survey["version"],
        campaign["state"],
    )


async def test_every_surveys_endpoint_keeps_tenants_apart(platform: Platform) -> None:
    base = platform.url("surveys")
    async with httpx.AsyncClient(timeout=20) as client:
        for tenant in ("acme", "globex"):
            await create_tenant(client, platform, tenant)
        scopes = ["surveys:read", "surveys:write", "calls:read", "calls:write"]
        acme = (await create_api_key(client, platform, "acme", scopes))["api_key"]
        globex = (await create_api_key(client, platform, "globex", scopes))["api_key"]
        calls_only = (await create_api_key(client, platform, "acme", ["calls:read"]))["api_key"]
        reader = (await create_api_key(client, platform, "acme", ["surveys:read"]))["api_key"]
        headers = {"Authorization": f"Bearer {acme}"}
        put = await client.put(f"{base}/v1/customers/{REF}", json=CUSTOMER, headers=headers)
        assert put.status_code == 201, put.text
        survey = await client.post(f"{base}/v1/surveys", json=SURVEY, headers=headers)
        body = {"survey_id": survey.json()["survey_id"], "audience": {}, **CAMPAIGN_RULES}
        campaign = await client.post(f"{base}/v1/campaigns", json=body, headers=headers)
        assert campaign.status_code == 201, campaign.text
        ids = {"survey": survey.json()["survey_id"], "campaign": campaign.json()["campaign_id"]}
        call = await client.post(
            f"{platform.url('intake')}/v1/calls",
            json={"caller_phone": "+4930222", "language": "de", "topic": "billing"},
            headers=headers,
        )
        cases = _cases(ids["survey"], ids["campaign"], call.json()["call_id"])
        documented = {
            (method.upper(), path)
            for path, item in (await client.get(f"{base}/openapi.json")).json()["paths"].items()
            if path.startswith("/v1/") and path != "/v1/whoami"
            for method in item
        }
        assert {(c.method, c.template) for c in cases} == documented, "a case per endpoint"
        before = await _acme_state(client, base, acme, ids)

        for case in cases:
            answer = await _send(client, base, case, globex)
            assert answer.status_code == case.foreign, (case.method, case.path, answer.text)
            if case.foreign >= 400:
                assert answer.headers["content-type"] == "application/problem+json"
            if case.method == "GET" and case.foreign == 200:
                assert answer.json()["invitations"] == [], "globex sees no acme invitation"
            refused = await _send(client, base, case, calls_only)
            assert refused.status_code == 403, (case.method, case.path, refused.text)
            if case.scope == "surveys:write":
                refused = await _send(client, base, case, reader)
                assert refused.status_code == 403, (case.method, case.path, refused.text)

        assert await _acme_state(client, base, acme, ids) == before, "acme's data unchanged"
