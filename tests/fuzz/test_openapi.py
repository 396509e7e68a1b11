"""Schemathesis over each service's OpenAPI document, against the running service and broker.

Every generated request, valid or not, must get a documented status with a body that matches
the documented schema, and never a 5xx. Afterwards every record the fuzzing made the services
write is read back from the broker: each must be a whole, valid event (never a half-written
one), and none may have been dead-lettered.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from aiokafka import AIOKafkaConsumer, TopicPartition
from analytics.app import create_app as analytics_app
from analytics.settings import AnalyticsSettings
from callcenter_events import REGISTRY, MalformedEventError, Record, decode
from callcenter_events.privacy.keystore import KeyRecord
from callcenter_events.topics import ALL_TOPICS, DEAD_LETTERS, SUBJECT_KEYS
from callcenter_testkit import eventually
from callcenter_testkit.platform import Platform
from callcenter_testkit.tally import count
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from intake.app import create_app as intake_app
from intake.settings import IntakeSettings
from routing.app import create_app as routing_app
from routing.settings import RoutingSettings
from surveys.app import create_app as surveys_app
from surveys.settings import SurveysSettings

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(600)]
EXAMPLES = int(os.environ.get("CALLCENTER_FUZZ_EXAMPLES", "40"))
"""Examples per operation; a deeper run than CI's: `CALLCENTER_FUZZ_EXAMPLES=500`."""


def _fuzzer(service: str, app: FastAPI) -> Callable[..., None]:
    """A test over `service`: the document it serves is built by the same code, from `app`."""
    schema = schemathesis.openapi.from_dict(app.openapi())

    @schema.parametrize()
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def fuzz(
        case: schemathesis.Case,  # type: ignore[type-arg]
        fuzzed_platform: Platform,
        fuzz_checks: list[Any],
    ) -> None:
        url = fuzzed_platform.url(service)
        count("fuzz", f"{service} requests")
        case.call_and_validate(base_url=url, headers=fuzzed_platform.auth, checks=fuzz_checks)

    return fuzz  # type: ignore[no-any-return]


test_intake_answers_every_request_as_documented = _fuzzer("intake", intake_app(IntakeSettings()))
test_surveys_answers_every_request_as_documented = _fuzzer(
    "surveys", surveys_app(SurveysSettings())
)
test_routing_answers_every_request_as_documented = _fuzzer(
    "routing", routing_app(RoutingSettings())
)
test_analytics_answers_every_request_as_documented = _fuzzer(
    "analytics", analytics_app(AnalyticsSettings(database_url="sqlite:///:memory:"))
)


Read = tuple[str, int, int, Record]


async def _every_record(bootstrap: str, partitions: list[TopicPartition]) -> list[Read]:
    """Every committed record of `partitions`, from the beginning to their current end."""
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, isolation_level="read_committed", enable_auto_commit=False
    )
    await reader.start()
    found: list[Read] = []
    try:
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        ends = await reader.end_offsets(partitions)

        async def read_to_the_end() -> bool:
            polled = await reader.getmany(timeout_ms=200)
            for tp, messages in polled.items():
                found.extend(
                    (tp.topic, tp.partition, m.offset, Record(m.key, m.value, m.headers))
                    for m in messages
                )
            return all([await reader.position(tp) >= ends[tp] for tp in partitions])

        await eventually(read_to_the_end, timeout=60, what="every record read")
    finally:
        await reader.stop()
    return found


def _problem(topic: str, base_name: str, record: Record) -> str | None:
    """What is wrong with a record the platform wrote (None: nothing)."""
    if base_name == DEAD_LETTERS.base_name:
        reason = dict(record.headers).get("dlq_reason", b"?").decode(errors="replace")
        return f"dead-lettered by a service: {reason}"
    if base_name == SUBJECT_KEYS.base_name:
        return _key_problem(record)
    try:
        envelope = decode(record)
    except MalformedEventError as exc:
        return f"not a valid event: {exc}"
    if REGISTRY.spec(envelope.type).topic.base_name != base_name:
        return f"{envelope.type!r} written to {topic}"
    return None


def _key_problem(record: Record) -> str | None:
    """A subject's key record under its subject id, or a tombstone (an erasure)."""
    if record.value is None:
        return None
    try:
        key = KeyRecord.from_json(record.value)
    except (ValueError, KeyError, TypeError) as exc:
        return f"not a key record: {exc!r}"
    if record.key != key.subject_id.encode():
        return f"key record of {key.subject_id!r} under key {record.key!r}"
    return None


async def test_the_fuzzing_wrote_only_whole_valid_events(
    fuzzed_platform: Platform, kafka_bootstrap: str
) -> None:
    """Runs after the fuzzers above (pytest keeps a module's order): what did they make us write?"""
    prefix = fuzzed_platform.topic_prefix
    base_names = {topic.name(prefix): topic.base_name for topic in ALL_TOPICS}
    partitions = [
        TopicPartition(topic.name(prefix), partition)
        for topic in ALL_TOPICS
        for partition in range(topic.partitions)
    ]
    records = await _every_record(kafka_bootstrap, partitions)
    problems = [
        f"{topic}:{partition}:{offset}: {problem}"
        for topic, partition, offset, record in records
        if (problem := _problem(topic, base_names[topic], record)) is not None
    ]
    count("fuzz", "written records checked", len(records))
    assert not problems, "\n".join(problems[:20])
