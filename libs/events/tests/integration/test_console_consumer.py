"""Kafka's own console consumer reads our events as CloudEvents in binary mode."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import orjson
import pytest
from callcenter_events.producer import EventProducer
from callcenter_events.testing import call_received
from callcenter_events.topics import CALLS

pytestmark = pytest.mark.kafka
KAFKA_SH = Path(__file__).resolve().parents[4] / "deploy" / "kafka.sh"


def _console_consume(bootstrap: str, topic: str) -> str:
    command = [
        "bash", str(KAFKA_SH), "tool", "org.apache.kafka.tools.consumer.ConsoleConsumer",
        "--bootstrap-server", bootstrap, "--topic", topic, "--from-beginning",
        "--max-messages", "1", "--timeout-ms", "30000",
        "--property", "print.headers=true", "--property", "print.key=true",
        "--property", "headers.separator=|",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    return done.stdout


async def test_console_consumer_sees_the_cloudevents_attributes(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    envelope = call_received("c-console", tenant_id="acme")
    producer = EventProducer(kafka_bootstrap, client_id="console-test", topic_prefix=topic_prefix)
    await producer.start()
    try:
        await producer.publish(envelope)
    finally:
        await producer.stop()

    output = await asyncio.to_thread(_console_consume, kafka_bootstrap, CALLS.name(topic_prefix))
    [line] = [line for line in output.splitlines() if "ce_id:" in line]
    headers_text, key, value = line.split("\t", 2)
    headers = dict(item.split(":", 1) for item in headers_text.split("|"))
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_id"] == envelope.id
    assert headers["ce_type"] == "call.received"
    assert headers["ce_source"] == "/test"
    assert headers["ce_tenantid"] == "acme"
    assert headers["ce_correlationid"] == envelope.correlation_id
    assert headers["ce_schemaversion"] == "2"
    assert headers["content-type"] == "application/json"
    assert headers["ce_time"] == envelope.time.isoformat()
    assert key == "c-console"
    assert orjson.loads(value)["call_id"] == "c-console"
