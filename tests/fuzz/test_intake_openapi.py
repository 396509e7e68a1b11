"""Schemathesis over intake's OpenAPI document, against the running service and real broker.

Every generated request, valid or not, must get a documented status with a body that matches
the documented schema, and never a 5xx.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from callcenter_events.admin import ensure_topics
from callcenter_testkit.platform import Platform, start_platform
from hypothesis import HealthCheck, settings
from intake.app import create_app
from intake.settings import IntakeSettings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(600)]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed_platform(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    prefix = f"fuzz-{uuid.uuid4().hex[:8]}."
    asyncio.run(ensure_topics(kafka_bootstrap, prefix=prefix))
    folder: Path = tmp_path_factory.mktemp("fuzz")
    running = start_platform(kafka_bootstrap, prefix, f"sqlite:///{folder}/a.sqlite3", folder)
    yield running
    for service in running.services.values():
        service.stop()


# The document the running service serves is built by the same code, from the same app.
schema = schemathesis.openapi.from_dict(create_app(IntakeSettings()).openapi())


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_intake_answers_every_request_as_documented(
    case: schemathesis.Case,  # type: ignore[type-arg]
    fuzzed_platform: Platform,
) -> None:
    case.call_and_validate(
        base_url=fuzzed_platform.url("intake"), headers=fuzzed_platform.auth, checks=CHECKS
    )
