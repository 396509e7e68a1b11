"""What the fuzzers found, asked again on purpose: a 4xx now, never a 5xx or a poison event.

The OpenAPI fuzzers find such inputs by chance, these tests every time. Whatever these requests
make the services write is checked too, by the last test of `test_openapi.py`.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from callcenter_testkit.platform import Platform, create_tenant

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

CUSTOMER = b'"phone":"+4930123456","language":"de","timezone":"Europe/Berlin"'


@pytest.mark.parametrize(
    "path",
    [
        "/v1/analytics/agents?to=0001-01-01T01:01:00Z",  # 7 days before: before year 1
        "/v1/analytics/calls?to=0001-01-01T01:01:00Z",
    ],
)
async def test_times_at_the_ends_of_the_calendar_are_a_400(
    fuzzed_platform: Platform, path: str
) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            fuzzed_platform.url("analytics") + path, headers=fuzzed_platform.auth
        )
    assert answer.status_code == 400, answer.text


async def test_a_survey_version_beyond_a_database_integer_is_a_422(
    fuzzed_platform: Platform,
) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            f"{fuzzed_platform.url('surveys')}/v1/surveys/sv-any?version={2**63}",
            headers=fuzzed_platform.auth,
        )
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
async def test_a_non_finite_segment_value_is_refused(
    fuzzed_platform: Platform, number: bytes
) -> None:
    """JSON has no NaN: Python's parser takes it, and the event wrote it as null (a poison)."""
    tenant = f"nan-{uuid.uuid4().hex[:6]}"
    surveys = fuzzed_platform.url("surveys")
    segment = b'"segment":{"x":' + number + b"}"
    async with httpx.AsyncClient() as client:
        await create_tenant(client, fuzzed_platform, tenant)
        put = await client.put(
            f"{surveys}/v1/customers/c-1?tenant_id={tenant}",
            content=b"{" + CUSTOMER + b"," + segment + b"}",
            headers={**fuzzed_platform.auth, "content-type": "application/json"},
        )
        imported = await client.post(
            f"{surveys}/v1/customers/import?tenant_id={tenant}",
            content=b'{"customer_ref":"c-2",' + CUSTOMER + b"," + segment + b"}\n",
            headers={**fuzzed_platform.auth, "content-type": "application/x-ndjson"},
        )
    assert put.status_code == 422, put.text
    assert imported.status_code == 200, imported.text
    assert (imported.json()["accepted"], imported.json()["rejected"]) == (0, 1)
