"""`POST /v1/customers/import`: a tenant's customer list, CSV or NDJSON, through real HTTP and
the real broker. Bad rows are reported by number and the good ones written; the customers are
then readable with their consent history, by their own tenant only; running the file again
records no consent twice; a list that cannot be read is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from callcenter_testkit.platform import Platform, create_api_key, create_tenant

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

CSV = (
    "customer_ref,phone,language,timezone,name,segment.region,segment.products,"
    "consent.marketing_calls,consent.source,consent.at\r\n"
    "crm-a,+4930111111,de,Europe/Berlin,Anna,north,dsl|tv,yes,web-form,2026-03-01T10:00:00Z\r\n"
    "crm-b,030-222222,de,Europe/Berlin,,south,dsl,,,\r\n"
    "crm-c,+4930333333,de,Europe/Berlin,,south,dsl,,,\r\n"
    "crm-d,+4930444444,de,Mars/Olympus,,north,,no,call,2026-03-02T10:00:00Z\r\n"
)
NDJSON_ROWS: list[Any] = [
    {
        "customer_ref": "crm-e",
        "phone": "+4930555555",
        "language": "en",
        "timezone": "Europe/London",
        "segment": {"region": "west", "products": ["fiber"], "score": 7},
        "consent": {"marketing_calls": True, "source": "shop", "at": "2026-03-03T10:00:00Z"},
    },
    '{"customer_ref": "crm-x", "phone": ',
    {"customer_ref": "crm-f", "phone": "+4930666666", "timezone": "Europe/Berlin"},
    {
        "customer_ref": "crm-a",
        "phone": "+4930111111",
        "language": "de",
        "timezone": "Europe/Berlin",
        "consent": {"marketing_calls": False, "source": "call", "at": "2026-04-01T09:00:00Z"},
    },
]


@pytest.fixture(params=["sqlite"])
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/analytics.sqlite3"


def _ndjson() -> bytes:
    lines = [row.encode() if isinstance(row, str) else orjson.dumps(row) for row in NDJSON_ROWS]
    return b"\n".join(lines) + b"\n"


async def _streamed(body: bytes, size: int = 50) -> AsyncIterator[bytes]:
    """The body in small chunks (chunked transfer), so rows straddle them."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def _keys(client: httpx.AsyncClient, platform: Platform) -> tuple[dict[str, str], ...]:
    for tenant in ("acme", "globex"):
        await create_tenant(client, platform, tenant)
    scopes = ["surveys:read", "surveys:write"]
    acme = await create_api_key(client, platform, "acme", scopes)
    globex = await create_api_key(client, platform, "globex", scopes)
    read_only = await create_api_key(client, platform, "acme", ["surveys:read"])
    return tuple({"Authorization": f"Bearer {k['api_key']}"} for k in (acme, globex, read_only))


async def _import(
    client: httpx.AsyncClient, url: str, body: bytes, media_type: str, key: dict[str, str]
) -> httpx.Response:
    headers = key | {"Content-Type": media_type}
    return await client.post(f"{url}/import", content=_streamed(body), headers=headers)


def _errors(report: dict[str, Any]) -> list[tuple[int, str | None, str]]:
    return [(e["row"], e.get("customer_ref"), e["problems"][0]) for e in report["errors"]]


async def test_an_import_writes_the_good_rows_and_reports_the_bad_ones(platform: Platform) -> None:
    customers = f"{platform.url('surveys')}/v1/customers"
    async with httpx.AsyncClient(headers=platform.auth, timeout=30) as client:
        acme, globex, read_only = await _keys(client, platform)

        from_csv = await _import(client, customers, CSV.encode(), "text/csv", acme)
        assert from_csv.status_code == 200, from_csv.text
        report = from_csv.json()
        assert (report["rows"], report["accepted"], report["rejected"]) == (4, 2, 2)
        assert [(row, ref) for row, ref, _ in _errors(report)] == [(2, "crm-b"), (4, "crm-d")]
        assert _errors(report)[0][2].startswith("phone: ")
        assert _errors(report)[1][2].startswith("timezone: ")
        assert report["errors_truncated"] is False

        from_ndjson = await _import(client, customers, _ndjson(), "application/x-ndjson", acme)
        assert from_ndjson.status_code == 200, from_ndjson.text
        report = from_ndjson.json()
        assert (report["rows"], report["accepted"], report["rejected"]) == (4, 2, 2)
        assert _errors(report)[0][:2] == (2, None)
        assert _errors(report)[0][2].startswith("Invalid JSON")
        assert _errors(report)[1] == (3, "crm-f", "language: Field required")
        wait = {"min_position": report["position"]}

        anna = await client.get(f"{customers}/crm-a", params=wait, headers=read_only)
        assert anna.status_code == 200, anna.text
        shown = anna.json()
        assert (shown["phone"], shown["name"], shown["segment"]) == ("+4930111111", None, {})
        assert shown["consent"] == {"marketing_calls": False}, "the file's last row wins"
        carl = (await client.get(f"{customers}/crm-c", params=wait, headers=acme)).json()
        assert carl["segment"] == {"region": "south", "products": "dsl"}
        eve = (await client.get(f"{customers}/crm-e", params=wait, headers=acme)).json()
        assert eve["segment"] == {"region": "west", "products": ["fiber"], "score": 7}
        for rejected in ("crm-b", "crm-d", "crm-f"):
            assert (await client.get(f"{customers}/{rejected}", headers=acme)).status_code == 404

        assert await _ledger(client, customers, "crm-a", acme) == [
            (True, "web-form"),
            (False, "call"),
        ]
        assert await _ledger(client, customers, "crm-e", acme) == [(True, "shop")]

        again = await _import(client, customers, _ndjson(), "application/ndjson", acme)
        assert again.json()["accepted"] == 2
        wait = {"min_position": again.json()["position"]}
        assert (await client.get(f"{customers}/crm-e", params=wait, headers=acme)).is_success
        assert await _ledger(client, customers, "crm-a", acme) == [
            (True, "web-form"),
            (False, "call"),
        ], "running the file again records no consent twice"
        assert await _ledger(client, customers, "crm-e", acme) == [(True, "shop")]

        for ref in ("crm-a", "crm-c", "crm-e"):
            foreign = await client.get(f"{customers}/{ref}", headers=globex)
            assert foreign.status_code == 404, "another tenant does not see the customer"


async def _ledger(
    client: httpx.AsyncClient, customers: str, ref: str, key: dict[str, str]
) -> list[tuple[bool, str]]:
    answer = await client.get(f"{customers}/{ref}/consent", headers=key)
    assert answer.status_code == 200, answer.text
    return [(line["marketing_calls"], line["source"]) for line in answer.json()["history"]]


async def test_a_list_that_cannot_be_read_is_refused_before_anything_is_written(
    platform: Platform,
) -> None:
    customers = f"{platform.url('surveys')}/v1/customers"
    async with httpx.AsyncClient(timeout=30) as client:
        acme, globex, read_only = await _keys(client, platform)
        body = CSV.encode()

        no_phone = CSV.replace("customer_ref,phone,", "customer_ref,").encode()
        refused = await _import(client, customers, no_phone, "text/csv", acme)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"] == ["the column `phone` is missing"]

        wrong_type = await _import(client, customers, body, "application/json", acme)
        assert wrong_type.status_code == 415
        assert wrong_type.headers["content-type"] == "application/problem+json"
        assert (await _import(client, customers, body, "text/csv", read_only)).status_code == 403
        foreign = await client.post(
            f"{customers}/import",
            params={"tenant_id": "acme"},
            content=body,
            headers=globex | {"Content-Type": "text/csv"},
        )
        assert foreign.status_code == 404, "a key names no other tenant"
        anonymous = await client.post(
            f"{customers}/import", content=body, headers={"Content-Type": "text/csv"}
        )
        assert anonymous.status_code == 401

        by_operator = await client.post(
            f"{customers}/import",
            params={"tenant_id": "acme"},
            content=CSV.replace("crm-a", "crm-z").encode(),
            headers=platform.auth | {"Content-Type": "text/csv"},
        )
        assert by_operator.json()["accepted"] == 2, by_operator.text
        wait = {"min_position": by_operator.json()["position"]}
        assert (await client.get(f"{customers}/crm-z", params=wait, headers=acme)).is_success
        assert (await client.get(f"{customers}/crm-z", headers=globex)).status_code == 404
        written_before = await client.get(f"{customers}/crm-a", headers=acme)
        assert written_before.status_code == 404, "no refused import wrote anything"
