"""Customers with a consent ledger on the surveys service, and their erasure.

Checked the way a client company uses it: over HTTP with its own API key, against the real
broker; and the way a regulator would ask: the consent history with its provenance, and an
erased customer gone from every topic, table and answer, also after surveys rebuilt its
projection from offset zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from callcenter_events.topics import ALL_TOPICS
from callcenter_testkit import eventually
from callcenter_testkit.platform import Platform, create_api_key, create_tenant
from callcenter_testkit.traces import all_bytes, database_text, delete_sqlite, raw_log

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

REF = "crm-77-anna"
PHONE = "+4369912345678"
NAME = "Anna Beispiel"
CUSTOMER = {
    "phone": PHONE,
    "name": NAME,
    "language": "de-AT",
    "timezone": "Europe/Vienna",
    "segment": {"age_band": "30-39", "region": "vienna", "products": ["fiber", "tv"]},
    "consent": {
        "marketing_calls": True,
        "source": "web-form",
        "at": "2026-03-01T10:00:00+01:00",
        "wording": "Yes, you may call me about surveys.",
    },
}


@pytest.fixture(params=["sqlite"])
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/analytics.sqlite3"


async def _keys(client: httpx.AsyncClient, platform: Platform) -> tuple[dict[str, str], ...]:
    for tenant in ("acme", "globex"):
        await create_tenant(client, platform, tenant)
    scopes = ["surveys:read", "surveys:write", "calls:write", "calls:read"]
    acme = await create_api_key(client, platform, "acme", scopes)
    globex = await create_api_key(client, platform, "globex", scopes)
    read_only = await create_api_key(client, platform, "acme", ["surveys:read"])
    return tuple({"Authorization": f"Bearer {k['api_key']}"} for k in (acme, globex, read_only))


async def test_a_customer_has_a_consent_ledger_with_provenance(platform: Platform) -> None:
    surveys = f"{platform.url('surveys')}/v1/customers"
    async with httpx.AsyncClient(headers=platform.auth, timeout=15) as client:
        acme, globex, read_only = await _keys(client, platform)

        created = await client.put(f"{surveys}/{REF}", json=CUSTOMER, headers=acme)
        assert created.status_code == 201, created.text
        replaced = await client.put(f"{surveys}/{REF}", json=CUSTOMER, headers=acme)
        assert replaced.status_code == 200, replaced.text
        withdrawn = await client.post(
            f"{surveys}/{REF}/consent",
            json={"marketing_calls": False, "source": "call", "at": "2026-04-02T09:15:00Z"},
            headers=acme | {"Idempotency-Key": "withdraw-1"},
        )
        assert withdrawn.status_code == 201, withdrawn.text
        position = withdrawn.json()["position"]

        view = await client.get(f"{surveys}/{REF}", params={"min_position": position}, headers=acme)
        assert view.status_code == 200, view.text
        shown = view.json()
        assert (shown["phone"], shown["name"], shown["timezone"]) == (
            PHONE,
            NAME,
            "Europe/Vienna",
        )
        assert shown["segment"]["products"] == ["fiber", "tv"]
        assert shown["consent"] == {"marketing_calls": False}

        ledger = (await client.get(f"{surveys}/{REF}/consent", headers=read_only)).json()
        assert ledger["current"] is False
        assert [(h["marketing_calls"], h["source"]) for h in ledger["history"]] == [
            (True, "web-form"),
            (False, "call"),
        ], "the replaced customer with unchanged consent adds no ledger line"
        assert ledger["history"][0]["wording"] == "Yes, you may call me about surveys."
        assert ledger["history"][0]["at"].startswith("2026-03-01T09:00:00")
        assert all(h["recorded_by"] != "operator" for h in ledger["history"])

        for method, url in (("GET", f"{surveys}/{REF}"), ("GET", f"{surveys}/{REF}/consent")):
            foreign = await client.request(method, url, headers=globex)
            assert foreign.status_code == 404, "another tenant does not see the customer"
        assert (await client.delete(f"{surveys}/{REF}", headers=globex)).status_code == 404
        assert (await client.delete(f"{surveys}/{REF}", headers=read_only)).status_code == 403
        bad = await client.put(
            f"{surveys}/{REF}", json=CUSTOMER | {"timezone": "Mars/Olympus"}, headers=acme
        )
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"


def _personal(line: str) -> bool:
    return any(secret in line for secret in ("pd1.", REF, PHONE, NAME))


async def test_an_erased_customer_is_gone_everywhere_and_stays_gone_after_a_rebuild(
    platform: Platform, kafka_bootstrap: str, tmp_path: Path
) -> None:
    surveys = f"{platform.url('surveys')}/v1/customers"
    async with httpx.AsyncClient(headers=platform.auth, timeout=15) as client:
        acme, _globex, _read_only = await _keys(client, platform)
        created = await client.put(f"{surveys}/{REF}", json=CUSTOMER, headers=acme)
        assert created.status_code == 201, created.text

        call = await client.post(
            f"{platform.url('intake')}/v1/calls",
            json={"caller_phone": PHONE, "customer_ref": REF, "language": "de", "topic": "x"},
            headers=acme,
        )
        assert call.status_code == 202, call.text
        call_url = f"{platform.url('intake')}/v1/calls/{call.json()['call_id']}"
        assert (await client.get(call_url, headers=acme)).json()["caller_phone"] == PHONE

        erased = await client.delete(f"{surveys}/{REF}", headers=acme)
        assert erased.status_code == 202, erased.text
        assert erased.json()["subjects"] == 2, "the customer and the customer's number"

        assert (await client.get(f"{surveys}/{REF}", headers=acme)).status_code == 404
        assert (await client.get(f"{surveys}/{REF}/consent", headers=acme)).status_code == 404

        async def call_blanked() -> dict[str, Any] | None:
            seen: dict[str, Any] = (await client.get(call_url, headers=acme)).json()
            return seen if seen["caller_phone"] is None and seen["customer_ref"] is None else None

        await eventually(call_blanked, timeout=10, what="intake no longer shows the number")

        log = all_bytes(
            await raw_log(kafka_bootstrap, [t.name(platform.topic_prefix) for t in ALL_TOPICS])
        )
        for secret in (REF, PHONE, PHONE[1:], NAME):
            assert secret.encode() not in log, f"{secret} is in the log in clear"

        surveys_db = tmp_path / "surveys.sqlite3"

        async def tables_blanked() -> bool:
            text = database_text(surveys_db)
            kept = [line for line in text.splitlines() if _personal(line)]
            assert not kept, f"personal data kept: {kept}"
            return True

        await eventually(tables_blanked, timeout=10, what="surveys blanked the customer")
        assert "vienna" in database_text(surveys_db), "the target group stays for aggregates"

        platform.services["surveys"].stop()
        delete_sqlite(surveys_db)
        platform.restart("surveys")
        assert (await client.get(f"{surveys}/{REF}", headers=acme)).status_code == 404
        await eventually(tables_blanked, timeout=15, what="the rebuilt projection stays blank")

        again = await client.put(f"{surveys}/{REF}", json=CUSTOMER, headers=acme)
        assert again.status_code == 201, "after an erasure the customer is new"
