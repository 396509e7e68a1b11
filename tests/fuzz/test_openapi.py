"""Schemathesis over each service's OpenAPI document, against the running service and broker.

Every generated request, valid or not, must get a documented status with a body that matches
the documented schema, and never a 5xx.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from analytics.app import create_app as analytics_app
from analytics.settings import AnalyticsSettings
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
