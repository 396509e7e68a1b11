"""The fault suite's platform and scenario: one platform per module, one tenant per test.

Each module starts the four services once, on a topic prefix of its own; each test gets a new
tenant with its own agents and survey, so the oracle's figures are that test's alone while the
platform carries every earlier fault with it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from callcenter_testkit import eventually
from callcenter_testkit.oracle import SERVICE_LEVEL_S, SHORT_ABANDON_S
from callcenter_testkit.platform import Platform, start_platform
from callcenter_testkit.scenario import READY_S, Scenario

PLATFORM_ENV = {
    # the load's desktops send no heartbeats; a scenario must not lose its agents to that
    "ROUTING_HEARTBEAT_TIMEOUT_S": "3600",
    # snapshots now and then, so that a restarted routing loads one and folds the rest
    "ROUTING_SNAPSHOT_EVERY_FACTS": "500",
}
WRAP_UP = {"wrap_up_limit_s": 5}
"""An agent whose caller's hang-up intake took for an abandon (its view lagged behind routing's
connect) cannot submit a wrap-up: routing frees them at this limit."""
SURVEY = {
    "name": "After the call",
    "kind": "post_call",
    "questions": [{"id": "nps", "type": "nps", "text": "Recommend us?", "required": True}],
}


@pytest.fixture(scope="module")
def platform(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    log_dir = tmp_path_factory.mktemp("faults")
    started = start_platform(
        kafka_bootstrap,
        f"faults-{uuid.uuid4().hex[:10]}.",
        f"sqlite:///{log_dir / 'analytics.sqlite3'}",
        log_dir,
        extra_env=PLATFORM_ENV,
        ready_timeout=READY_S,
    )
    try:
        yield started
    finally:
        for service in started.services.values():
            service.stop()


@pytest.fixture
async def scenario(platform: Platform, kafka_bootstrap: str) -> AsyncIterator[Scenario]:
    tenant = f"t{uuid.uuid4().hex[:8]}"
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(headers=platform.auth, timeout=30, limits=limits) as client:
        settings = {
            "service_level_threshold_s": SERVICE_LEVEL_S,
            "short_abandon_s": SHORT_ABANDON_S,
        }
        body = {"tenant_id": tenant, "name": tenant, "settings": settings | WRAP_UP}
        created = await client.post(f"{platform.url('intake')}/v1/tenants", json=body)
        assert created.status_code == 201, created.text
        survey_id = await _survey(client, platform.url("surveys"), tenant)
        yield Scenario(platform, kafka_bootstrap, client, tenant, survey_id)


async def _survey(client: httpx.AsyncClient, url: str, tenant: str) -> str:
    async def created() -> str | None:  # once surveys has read the new tenant
        answer = await client.post(f"{url}/v1/surveys", json=SURVEY | {"tenant_id": tenant})
        return str(answer.json()["survey_id"]) if answer.status_code == 201 else None

    return await eventually(created, timeout=30, what="a survey created")
