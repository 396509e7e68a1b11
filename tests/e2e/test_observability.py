"""One call followed through the platform: its correlation id in the JSON logs of all four
services, its W3C trace context in the Kafka headers of every event it causes."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx
import orjson
import pytest
from callcenter_events.topics import CALLS, ROUTING
from callcenter_testkit import eventually
from callcenter_testkit.platform import SERVICES, Platform, create_tenant
from callcenter_testkit.traces import HeadedRecord, headed_records
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

CALL = {"tenant_id": "acme", "caller_phone": "+4930123456", "language": "de", "topic": "billing"}
SKILLS = {"tenant:acme": 1, "lang:de": 5, "topic:billing": 5}
CAUSED_IN_KAFKA = {"call.received", "call.queued", "call.offered"}


@pytest.fixture(params=["sqlite"])
def database_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/analytics.sqlite3"


@pytest.fixture
def platform_env() -> dict[str, str]:
    """DEBUG: every handled event gets its `event_handled` line, every request its line."""
    return {"LOG_LEVEL": "DEBUG"}


def json_lines(platform: Platform, service: str) -> list[dict[str, Any]]:
    """The service's log as parsed JSON objects (anything else in it is skipped)."""
    path = platform.services[service].log_path
    lines: list[dict[str, Any]] = []
    for text in path.read_text(errors="replace").splitlines():
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if isinstance(parsed, dict):
            lines.append(parsed)
    return lines


def expected_lines(cid: str, call_id: str) -> dict[str, list[dict[str, Any]]]:
    """Per service, the lines (as field subsets) that must carry the correlation id."""
    handled = {"event": "event_handled", "type": "call.received", "correlation_id": cid}
    return {
        "intake": [{"event": "request", "path": "/v1/calls", "correlation_id": cid}, handled],
        "routing": [handled, {"event": "call_offered", "call_id": call_id, "correlation_id": cid}],
        "surveys": [handled],
        "analytics": [handled],
    }


def missing_lines(platform: Platform, cid: str, call_id: str) -> dict[str, list[dict[str, Any]]]:
    missing: dict[str, list[dict[str, Any]]] = {}
    for service, wanted in expected_lines(cid, call_id).items():
        lines = json_lines(platform, service)
        absent = [w for w in wanted if not any(w.items() <= line.items() for line in lines)]
        if absent:
            missing[service] = absent
    return missing


async def samples(client: httpx.AsyncClient, url: str) -> dict[tuple[str, str], float]:
    """A service's /metrics as {(sample name, labels as text): value}."""
    text = (await client.get(f"{url}/metrics")).text
    return {
        (sample.name, ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def call_in_metrics(client: httpx.AsyncClient, platform: Platform) -> bool:
    """The call shows in the metrics: handled by type everywhere, routing's wait and queues."""
    for service in SERVICES:
        found = await samples(client, platform.url(service))
        handled = found.get(("callcenter_events_handled_total", "type=call.received"), 0)
        assert handled >= 1, f"{service} counted no call.received handled"
        lags = [name for name, _labels in found if name == "callcenter_projection_lag"]
        assert lags, f"{service} reports no projection lag"
    routing = await samples(client, platform.url("routing"))
    assert routing[("callcenter_routing_decision_latency_seconds_count", "")] >= 1
    assert routing.get(("callcenter_routing_queue_length", "tenant=acme"), 0) == 0, "offered"
    return True


def traceparent_of(record: HeadedRecord) -> tuple[str, str]:
    """Trace id and parent span id of a record's `traceparent` header (fails if invalid)."""
    assert "traceparent" in record.headers, f"{record.headers.get('ce_type')!r} has no traceparent"
    version, trace_id, parent_id, flags = record.headers["traceparent"].decode().split("-")
    assert (version, len(trace_id), len(parent_id), len(flags)) == ("00", 32, 16, 2)
    assert int(parent_id, 16) != 0
    return trace_id, parent_id


async def test_one_call_is_followed_through_every_log_and_every_kafka_header(
    platform: Platform, kafka_bootstrap: str
) -> None:
    cid = f"obs-{uuid.uuid4()}"
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
        await create_tenant(client, platform, "acme")
        agent = f"{platform.url('routing')}/v1/agents/obs-agent"
        made = await client.put(agent, json={"name": "Obs", "skills": SKILLS})
        assert made.status_code == 201, made.text
        available = await client.put(f"{agent}/status", json={"status": "available"})
        assert available.status_code == 200, available.text

        posted = await client.post(
            f"{platform.url('intake')}/v1/calls",
            json=CALL,
            headers={"X-Correlation-ID": cid, "traceparent": f"00-{trace_id}-{caller_span}-01"},
        )
        assert posted.status_code == 202, posted.text
        assert posted.headers["x-correlation-id"] == cid
        call_id = posted.json()["call_id"]

        async def offered() -> bool:
            offers = (await client.get(agent)).json()["offers"]
            return any(offer["call_id"] == call_id for offer in offers)

        await eventually(offered, timeout=20, what="routing offers the call to the agent")
        await eventually(
            lambda: call_in_metrics(client, platform), timeout=20, what="the call in the metrics"
        )

    async def logged_everywhere() -> bool:
        missing = missing_lines(platform, cid, call_id)
        assert not missing, f"log lines without correlation id {cid}: {missing}"
        return True

    await eventually(logged_everywhere, timeout=20, what=f"{cid} in the logs of {SERVICES}")

    topics = [CALLS.name(platform.topic_prefix), ROUTING.name(platform.topic_prefix)]
    records = [
        r for r in await headed_records(kafka_bootstrap, topics) if r.key == call_id.encode()
    ]
    by_type = {r.headers["ce_type"].decode(): r for r in records}
    assert by_type.keys() >= CAUSED_IN_KAFKA, sorted(by_type)
    for record in records:
        kind = record.headers["ce_type"].decode()
        assert record.headers["ce_correlationid"] == cid.encode(), kind
        assert traceparent_of(record)[0] == trace_id, f"{kind} left the caller's trace"

    received = by_type["call.received"]
    assert traceparent_of(received)[1] == caller_span, "intake writes in the request's context"
    for kind in ("call.queued", "call.offered"):
        caused = by_type[kind]
        assert caused.headers["ce_causationid"] == received.headers["ce_id"], kind
        parent = traceparent_of(caused)[1]
        assert parent != caller_span, f"{kind}: routing handles call.received in a child span"
