"""A version-1 `call.received` in the log (a field renamed since) replays into the current calls
projection: the service upcasts it on reading, the projection never sees version 1."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from analytics.projections.calls import CallsProjection
from analytics.settings import AnalyticsSettings
from analytics.supervisor import ProjectionSupervisor
from callcenter_events.producer import EventProducer
from callcenter_events.store import make_engine
from callcenter_events.topics import CALLS
from callcenter_testkit import eventually
from sqlalchemy import text

pytestmark = pytest.mark.kafka

V1_HEADERS = [
    ("ce_specversion", b"1.0"),
    ("ce_id", b"old-event-1"),
    ("ce_source", b"/callcenter/intake"),
    ("ce_type", b"call.received"),
    ("ce_time", b"2025-06-01T08:00:00+00:00"),
    ("ce_tenantid", b"acme"),
    ("ce_correlationid", b"corr-old"),
    ("ce_schemaversion", b"1"),
    ("content-type", b"application/json"),
]
V1_DATA = {
    "call_id": "old-call",
    "tenant_id": "acme",
    "phone": "+4989000000",
    "language": "de-DE",
    "topic": "billing",
    "received_at": "2025-06-01T08:00:00+00:00",
}


async def test_version_1_event_in_the_log_is_projected(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    plain = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await plain.start()
    try:
        await plain.send_and_wait(
            CALLS.name(topic_prefix), orjson.dumps(V1_DATA), key=b"old-call", headers=V1_HEADERS
        )
    finally:
        await plain.stop()

    settings = AnalyticsSettings(kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=topic_prefix)
    engine = make_engine(f"sqlite:///{tmp_path / 'analytics.sqlite3'}")
    producer = EventProducer(kafka_bootstrap, client_id="upcast-test", topic_prefix=topic_prefix)
    projections = ProjectionSupervisor(engine, settings, producer, [CallsProjection()])
    await producer.start()
    await projections.start()
    try:

        async def projected() -> Any:
            query = text(
                "SELECT call_id, tenant_id, direction, language, topic, received_at "
                "FROM analytics_calls"
            )
            with engine.connect() as connection:
                return connection.execute(query).first()

        row = await eventually(projected, timeout=30, what="the v1 call projected")
    finally:
        await projections.stop()
        await producer.stop()
        await asyncio.to_thread(engine.dispose)
    assert tuple(row[:5]) == ("old-call", "acme", "inbound", "de-DE", "billing")
    assert str(row[5]).startswith("2025-06-01")
