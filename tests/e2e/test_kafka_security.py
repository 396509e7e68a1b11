"""Intake as a process on the secured broker, with only its own user's ACLs: enough to work.

The broker test (`libs/events/tests/integration/test_broker_acls.py`) shows the ACLs refuse
what a service may not do; this one shows they allow everything intake does: start (tenants,
subject keys, its consumer groups) without creating topics, and accept a call.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from callcenter_events.connection import KafkaConnection
from callcenter_events.topics import CALLS
from callcenter_testkit import eventually
from callcenter_testkit.platform import start_platform
from callcenter_testkit.secured import SecuredBroker

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow]


async def call_keys_in_log(bootstrap: str, connection: KafkaConnection) -> set[bytes]:
    """The keys of every record on the calls topic, read as `connection`'s user."""
    consumer = AIOKafkaConsumer(
        CALLS.name(),
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        **connection.client_options(),
    )
    await consumer.start()
    try:
        ends = await consumer.end_offsets(list(consumer.assignment()))
        keys: set[bytes] = set()
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            for messages in (await consumer.getmany(timeout_ms=500)).values():
                keys |= {m.key for m in messages}
        return keys
    finally:
        await consumer.stop()


async def test_intake_works_with_only_its_own_acls(
    secured_kafka: SecuredBroker, tmp_path: Path
) -> None:
    env = secured_kafka.env("intake") | {"CALLCENTER_CREATE_TOPICS": "false"}
    platform = start_platform(
        secured_kafka.bootstrap, "", "sqlite://", tmp_path, extra_env=env, only=("intake",)
    )
    intake = platform.services["intake"]
    try:
        tenant = f"t-{uuid.uuid4().hex[:8]}"
        async with httpx.AsyncClient(headers=platform.auth, timeout=10) as client:
            created = await client.post(
                f"{intake.url}/v1/tenants", json={"tenant_id": tenant, "name": "Secure"}
            )
            assert created.status_code == 201, created.text
            call = {"tenant_id": tenant, "caller_phone": "+4930123456", "language": "de"}
            answer = await client.post(f"{intake.url}/v1/calls", json=call | {"topic": "billing"})
        assert answer.status_code == 202, answer.text
        call_id = answer.json()["call_id"]
        routing = secured_kafka.connection("routing")

        async def landed() -> bool:
            return call_id.encode() in await call_keys_in_log(secured_kafka.bootstrap, routing)

        await eventually(landed, timeout=30, what=f"call {call_id} on the calls topic")
        log = intake.log_tail(1000)
        assert "topics_not_created" in log
        assert '"sasl_username": "intake"' in log
        assert secured_kafka.passwords["intake"] not in log
    finally:
        intake.stop()
