"""Erasure of a caller: gone from every topic, table and answer, also after a full rebuild.

Personal data never reaches a topic in clear (it is sealed per data subject), so a raw read of
every topic finds no number before the erasure either; after it, the sealed copies cannot be
opened any more by anyone, projections hold none of them, and a rebuild of intake's and
analytics' projections from offset zero gives the same counts with the caller still erased.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from callcenter_events.privacy import is_sealed
from callcenter_events.producer import EventProducer
from callcenter_events.topics import ALL_TOPICS
from callcenter_service.privacy import VaultComponent
from callcenter_service.settings import ServiceSettings
from callcenter_testkit import eventually
from callcenter_testkit.platform import Platform, create_api_key, create_tenant
from callcenter_testkit.traces import all_bytes, database_text, delete_sqlite, raw_log

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

ERASED_PHONE = "+4930111222333"
KEPT_PHONE = "+4930999888777"
CUSTOMER = "crm-erase-4711"
TENANT = "acme"


@pytest.fixture(params=["sqlite"])
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/analytics.sqlite3"


async def _call(client: httpx.AsyncClient, platform: Platform, **fields: object) -> str:
    body = {"tenant_id": TENANT, "language": "de", "topic": "billing"} | fields
    answer = await client.post(f"{platform.url('intake')}/v1/calls", json=body)
    assert answer.status_code == 202, answer.text
    call_id: str = answer.json()["call_id"]
    return call_id


async def _view(client: httpx.AsyncClient, platform: Platform, call_id: str) -> dict[str, Any]:
    answer = await client.get(f"{platform.url('intake')}/v1/calls/{call_id}")
    assert answer.status_code == 200, answer.text
    view: dict[str, Any] = answer.json()
    return view


async def _report(client: httpx.AsyncClient, platform: Platform) -> list[dict[str, Any]]:
    answer = await client.get(
        f"{platform.url('analytics')}/v1/analytics/calls",
        params={"tenant_id": TENANT, "interval": "day", "group_by": "topic"},
    )
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()["rows"]
    return rows


async def _open_sealed_phones(
    log: list[tuple[bytes, bytes, bytes]], bootstrap: str, prefix: str
) -> list[str | None]:
    """What a new reader of the key topic (as any service starting now) opens of the numbers."""
    tokens = [
        data["caller_phone"]
        for _key, value, headers in log
        if b"call.received" in headers and (data := orjson.loads(value)).get("caller_phone")
    ]
    settings = ServiceSettings(KAFKA_BOOTSTRAP_SERVERS=bootstrap, CALLCENTER_TOPIC_PREFIX=prefix)
    keys = VaultComponent(settings, EventProducer(bootstrap, client_id="e2e-unused"))
    await keys.start()
    try:
        assert await keys.keys.catch_up(10)
        return [await keys.vault.reveal(token, "caller_phone") for token in tokens]
    finally:
        await keys.stop()


async def test_an_erased_caller_is_gone_everywhere_and_stays_gone_after_a_rebuild(
    platform: Platform, kafka_bootstrap: str, tmp_path: Path
) -> None:
    intake = platform.url("intake")
    async with httpx.AsyncClient(headers=platform.auth, timeout=15) as client:
        await create_tenant(client, platform, TENANT)
        erased_calls = [
            await _call(client, platform, caller_phone=ERASED_PHONE),
            await _call(client, platform, caller_phone=ERASED_PHONE, topic="sales"),
            await _call(client, platform, caller_phone=ERASED_PHONE, customer_ref=CUSTOMER),
        ]
        kept_call = await _call(client, platform, caller_phone=KEPT_PHONE)
        for call_id in (erased_calls[0], kept_call):
            hangup = await client.post(f"{intake}/v1/calls/{call_id}/hangup", json={"by": "caller"})
            assert hangup.status_code == 202, hangup.text
        assert (await _view(client, platform, erased_calls[0]))["caller_phone"] == ERASED_PHONE
        customer_view = await _view(client, platform, erased_calls[2])
        assert customer_view["customer_ref"] == CUSTOMER

        async def counted() -> list[dict[str, Any]]:
            """The report once every call and both hang-ups are projected (it settles then)."""
            rows = await _report(client, platform)
            offered, abandoned = (sum(r[name] for r in rows) for name in ("offered", "abandoned"))
            return rows if (offered, abandoned) == (4, 2) else []

        before = await eventually(counted, timeout=20, what="analytics counted the calls")

        key = await create_api_key(client, platform, TENANT, ["calls:write", "calls:read"])
        refused = [
            await client.post(
                f"{intake}/v1/tenants/{TENANT}/erasures",
                json={"caller_phone": ERASED_PHONE},
                headers={"Authorization": f"Bearer {key['api_key']}"},
            ),
            await client.post(
                f"{intake}/v1/tenants/nobody/erasures", json={"caller_phone": ERASED_PHONE}
            ),
            await client.post(f"{intake}/v1/tenants/{TENANT}/erasures", json={"caller_phone": "1"}),
        ]
        assert [r.status_code for r in refused] == [403, 404, 422], "operator only, checked"
        erasure = await client.post(
            f"{intake}/v1/tenants/{TENANT}/erasures", json={"caller_phone": ERASED_PHONE}
        )
        assert erasure.status_code == 202, erasure.text
        assert erasure.json()["subjects"] == 1

        for call_id in erased_calls:
            assert (await _view(client, platform, call_id))["caller_phone"] is None
        assert (await _view(client, platform, erased_calls[2]))["customer_ref"] == CUSTOMER
        assert (await _view(client, platform, kept_call))["caller_phone"] == KEPT_PHONE
        listed = (await client.get(f"{intake}/v1/calls", params={"limit": 10})).json()["calls"]
        assert ERASED_PHONE not in str(listed)
        assert KEPT_PHONE in str(listed)

        log = await raw_log(kafka_bootstrap, [t.name(platform.topic_prefix) for t in ALL_TOPICS])
        everything = all_bytes(log)
        for secret in (ERASED_PHONE, ERASED_PHONE[1:], KEPT_PHONE, CUSTOMER):
            assert secret.encode() not in everything, f"{secret} is in the log in clear"
        opened = await _open_sealed_phones(log, kafka_bootstrap, platform.topic_prefix)
        assert sorted(opened, key=str) == [KEPT_PHONE, None, None, None], "by a fresh reader"

        intake_db = tmp_path / "intake.sqlite3"
        analytics_db = tmp_path / "analytics.sqlite3"

        async def no_erased_copies_left() -> bool:
            text = database_text(intake_db)
            return ERASED_PHONE not in text and _sealed_phones(intake_db) == 1

        await eventually(no_erased_copies_left, timeout=15, what="intake blanked the copies")
        assert ERASED_PHONE not in database_text(analytics_db)

        for service in ("intake", "analytics"):
            platform.services[service].stop()
        delete_sqlite(intake_db, analytics_db)
        for service in ("intake", "analytics"):
            platform.restart(service)

        after = await eventually(counted, timeout=30, what="analytics rebuilt from offset zero")
        assert after == before
        for call_id in erased_calls:
            assert (await _view(client, platform, call_id))["caller_phone"] is None
        assert (await _view(client, platform, kept_call))["caller_phone"] == KEPT_PHONE
        assert _sealed_phones(intake_db) == 1, "after the rebuild only the kept caller's number"

        again = await _call(client, platform, caller_phone=ERASED_PHONE)
        assert (await _view(client, platform, again))["caller_phone"] == ERASED_PHONE


def _sealed_phones(path: Path) -> int:
    with sqlite3.connect(path) as db:
        values = [r[0] for r in db.execute("SELECT caller_phone FROM intake_calls_v2")]
    return sum(1 for value in values if value is not None and is_sealed(value))


CUSTOMER_REF = "crm-gdpr-0815"
CUSTOMER_PHONE = "+436641234567"
CUSTOMER_NAME = "Grete Musterfrau"
FREE_TEXT = "Please call Grete back, the router box was crushed"
OTHER_TEXT = "Fine service"
SURVEY = {
    "name": "After the call",
    "kind": "post_call",
    "questions": [
        {"id": "nps", "type": "nps", "text": "Recommend us?", "required": True},
        {"id": "csat", "type": "csat", "text": "Satisfied?"},
        {"id": "packaging", "type": "choice", "text": "Packaging?", "options": ["ok", "bad"]},
        {"id": "comment", "type": "text", "text": "Anything else?"},
    ],
}


async def _survey_report(
    client: httpx.AsyncClient, platform: Platform, survey_id: str
) -> list[dict[str, Any]]:
    answer = await client.get(
        f"{platform.url('analytics')}/v1/analytics/surveys/{survey_id}",
        params={"group_by": "question,segment.region", "tenant_id": TENANT},
    )
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()["rows"]
    return rows


async def _customer_with_calls_and_answers(
    client: httpx.AsyncClient, platform: Platform
) -> tuple[str, list[str]]:
    """The customer, a stranger, their calls and their answers; the survey id and call ids."""
    surveys = platform.url("surveys")
    for ref, phone, region in (
        (CUSTOMER_REF, CUSTOMER_PHONE, "tyrol"),
        ("crm-other", KEPT_PHONE, "vienna"),
    ):
        body = {
            "phone": phone,
            "name": CUSTOMER_NAME if ref == CUSTOMER_REF else "Someone Else",
            "language": "de",
            "timezone": "Europe/Vienna",
            "segment": {"region": region},
            "consent": {
                "marketing_calls": True,
                "source": "contract",
                "at": "2026-01-05T08:00:00Z",
            },
        }
        put = await client.put(
            f"{surveys}/v1/customers/{ref}", json=body, params={"tenant_id": TENANT}
        )
        assert put.status_code == 201, put.text
    calls = [
        await _call(client, platform, caller_phone=CUSTOMER_PHONE, customer_ref=CUSTOMER_REF),
        await _call(client, platform, caller_phone=CUSTOMER_PHONE),
        await _call(client, platform, caller_phone=KEPT_PHONE, customer_ref="crm-other"),
    ]
    created = await client.post(f"{surveys}/v1/surveys", json=SURVEY | {"tenant_id": TENANT})
    assert created.status_code == 201, created.text
    survey_id: str = created.json()["survey_id"]
    responses = [
        {"customer_ref": CUSTOMER_REF, "answers": {"nps": 3, "csat": 2, "comment": FREE_TEXT}},
        {"call_id": calls[1], "answers": {"nps": 10, "packaging": "bad", "comment": FREE_TEXT}},
        {"customer_ref": "crm-other", "answers": {"nps": 9, "csat": 5, "comment": OTHER_TEXT}},
    ]
    for response in responses:
        answered = await client.post(f"{surveys}/v1/surveys/{survey_id}/responses", json=response)
        assert answered.status_code == 201, answered.text
    return survey_id, calls


async def test_an_erased_customer_leaves_no_trace_and_every_aggregate_survives_a_rebuild(
    platform: Platform, kafka_bootstrap: str, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(headers=platform.auth, timeout=15) as client:
        await create_tenant(client, platform, TENANT)
        survey_id, calls = await _customer_with_calls_and_answers(client, platform)

        async def counted() -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
            call_rows = await _report(client, platform)
            survey_rows = await _survey_report(client, platform, survey_id)
            answered = sum(r["responses"] for r in survey_rows if r["question"] == "nps")
            if sum(r["offered"] for r in call_rows) == 3 and answered == 3:
                return call_rows, survey_rows
            return None

        before = await eventually(counted, timeout=20, what="analytics counted calls and answers")
        assert before is not None
        assert any(r["nps"] == -100.0 for r in before[1]), "the customer's detractor answer"

        erased = await client.delete(
            f"{platform.url('surveys')}/v1/customers/{CUSTOMER_REF}", params={"tenant_id": TENANT}
        )
        assert erased.status_code == 202, erased.text

        secrets = (CUSTOMER_REF, CUSTOMER_PHONE, CUSTOMER_PHONE[1:], CUSTOMER_NAME, FREE_TEXT)
        topics = [t.name(platform.topic_prefix) for t in ALL_TOPICS]
        everything = all_bytes(await raw_log(kafka_bootstrap, topics))
        for secret in secrets:
            assert secret.encode() not in everything, f"{secret!r} is in the log in clear"

        databases = [tmp_path / f"{name}.sqlite3" for name in ("intake", "surveys", "analytics")]

        async def no_copies_left() -> bool:
            text = "\n".join(database_text(db) for db in databases)
            return all(s not in text for s in secrets) and _sealed_texts(databases[1]) == 1

        await eventually(no_copies_left, timeout=15, what="every projection blanked the customer")
        await _assert_erased_in_answers(client, platform, calls)

        services = ("intake", "surveys", "analytics")
        for service in services:
            platform.services[service].stop()
        delete_sqlite(*databases)
        for service in services:
            platform.restart(service)

        assert await eventually(counted, timeout=30, what="rebuilt from offset zero") == before
        await eventually(no_copies_left, timeout=15, what="the rebuilt projections stay blank")
        await _assert_erased_in_answers(client, platform, calls)


async def _assert_erased_in_answers(
    client: httpx.AsyncClient, platform: Platform, calls: list[str]
) -> None:
    customer = await client.get(
        f"{platform.url('surveys')}/v1/customers/{CUSTOMER_REF}", params={"tenant_id": TENANT}
    )
    assert customer.status_code == 404
    views = [await _view(client, platform, call_id) for call_id in calls]
    assert [(v["caller_phone"], v["customer_ref"]) for v in views] == [
        (None, None),
        (None, None),
        (KEPT_PHONE, "crm-other"),
    ]


def _sealed_texts(path: Path) -> int:
    with sqlite3.connect(path) as db:
        values = [r[0] for r in db.execute("SELECT text_answers FROM surveys_responses")]
    return sum(1 for value in values if value is not None and is_sealed(value))
