"""A version-1 `call.received` in the log is projected as the current version."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from analytics.projections.calls import CallFact, CallsProjection
from analytics.settings import AnalyticsSettings
from callcenter_events.producer import EventProducer
from callcenter_events.store import ProjectionStore, make_engine
from callcenter_events.topics import CALLS
from callcenter_service.projection import ProjectionRunner
from callcenter_testkit import eventually
from sqlmodel import Session, select

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
    runner = ProjectionRunner(
        ProjectionStore(engine, CallsProjection()), settings, producer, service="analytics"
    )
    await producer.start()
    await runner.component.start()
    try:

        async def projected() -> CallFact | None:
            with Session(engine) as session:
                return session.exec(select(CallFact)).first()

        fact = await eventually(projected, timeout=30, what="the v1 call projected")
    finally:
        await runner.component.stop()
        await producer.stop()
        await asyncio.to_thread(engine.dispose)
    assert fact is not None
    assert (fact.call_id, fact.tenant_id, fact.direction) == ("old-call", "acme", "inbound")
    assert (fact.language, fact.topic) == ("de-DE", "billing")
