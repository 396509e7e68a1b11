"""SIGKILL of each service in turn under a steady load: restarted, nothing lost, nothing twice."""

from __future__ import annotations

import asyncio

import pytest
from callcenter_testkit.load import SteadyLoad
from callcenter_testkit.scenario import READY_S, Scenario

pytestmark = [
    pytest.mark.faults,
    pytest.mark.kafka,
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.timeout(420),
]


@pytest.mark.parametrize("service", ["intake", "routing", "surveys", "analytics"])
async def test_sigkill_under_load(scenario: Scenario, service: str) -> None:
    async def kill(load: SteadyLoad) -> int:
        scenario.platform.services[service].kill()
        await asyncio.to_thread(scenario.platform.restart, service, READY_S)
        return 1

    await scenario.run(f"SIGKILL {service}", kill)
