"""The broker enforces the single-writer rule: each service's user writes only its own topics.

Against the local secured broker (`deploy/kafka-secure.sh`: SASL_SSL with a throwaway CA,
SCRAM-SHA-512 users, the KRaft StandardAuthorizer, ACLs from `access.acl_rules`), with the
real producer and consumer logged in through the connection settings the services read.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from callcenter_events import Batch, Envelope
from callcenter_events.access import access_of
from callcenter_events.connection import KafkaConnection
from callcenter_events.consumer import EventConsumer
from callcenter_events.deadletter import Failed
from callcenter_events.producer import EventProducer
from callcenter_events.testing import call_received
from callcenter_events.topics import CALLS
from callcenter_testkit import eventually
from callcenter_testkit.secured import SecuredBroker

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
REFUSAL_TIMEOUT_S = 20.0


class NoDeadLetters:
    async def send(self, failed: Failed) -> None:
        raise AssertionError(f"unexpected dead letter: {failed.reason}")


@pytest.fixture
async def intake_producer(secured_kafka: SecuredBroker) -> AsyncIterator[EventProducer]:
    producer = EventProducer(
        secured_kafka.bootstrap, client_id="intake", connection=secured_kafka.connection("intake")
    )
    await producer.start()
    yield producer
    await producer.stop()


async def publish_as(connection: KafkaConnection, bootstrap: str, envelope: Envelope) -> None:
    """Start a producer logged in with `connection`, publish, stop: bounded, never a hang."""
    producer = EventProducer(bootstrap, client_id="acl-test", connection=connection)
    try:
        async with asyncio.timeout(REFUSAL_TIMEOUT_S):
            await producer.start()
            await producer.publish(envelope)
    finally:
        await producer.stop()


@pytest.mark.parametrize("service", ["analytics", "routing"])
async def test_a_service_cannot_write_a_topic_it_does_not_own(
    secured_kafka: SecuredBroker, service: str
) -> None:
    assert CALLS not in access_of(service).writes
    assert CALLS in access_of(service).reads, "it may read (describe) the topic, not write it"
    with pytest.raises(TopicAuthorizationFailedError, match=CALLS.name()):
        await publish_as(
            secured_kafka.connection(service), secured_kafka.bootstrap, call_received("c-x")
        )


async def test_the_owner_writes_and_a_reader_reads_it_back(
    secured_kafka: SecuredBroker, intake_producer: EventProducer
) -> None:
    sent = call_received(f"c-{uuid.uuid4().hex[:8]}")
    position = await intake_producer.publish(sent)
    received: list[Envelope] = []

    async def handler(batch: Batch) -> None:
        received.extend(batch.envelopes)

    consumer = EventConsumer(
        bootstrap_servers=secured_kafka.bootstrap,
        group_id=f"routing.acl-test-{uuid.uuid4().hex[:8]}",  # routing's groups start "routing"
        topics=[CALLS.name()],
        handler=handler,
        dead_letters=NoDeadLetters(),
        connection=secured_kafka.connection("routing"),
    )
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    try:

        async def arrived() -> bool:
            return any(e.id == sent.id for e in received)

        await eventually(arrived, timeout=30, what="intake's event read by routing")
    finally:
        task.cancel()
        await consumer.stop()
    [read_back] = [e for e in received if e.id == sent.id]
    assert read_back.position == position


async def test_a_wrong_password_is_refused_at_connect(
    secured_kafka: SecuredBroker, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = secured_kafka.connection("intake", password="not-the-password")
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await publish_as(wrong, secured_kafka.bootstrap, call_received("c-x"))
    assert "SaslAuthenticationFailed" in caplog.text
    assert "invalid credentials" in caplog.text


async def test_a_client_that_does_not_trust_the_brokers_ca_cannot_connect(
    secured_kafka: SecuredBroker, caplog: pytest.LogCaptureFixture
) -> None:
    untrusting = secured_kafka.connection("intake").model_copy(update={"ssl_cafile": None})
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await publish_as(untrusting, secured_kafka.bootstrap, call_received("c-x"))
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
