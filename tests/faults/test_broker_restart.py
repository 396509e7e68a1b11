"""The broker stopped and started again under load (a broker of this module's own: the shared
one on 9092 serves every other test). The services reconnect by themselves; nothing that was
acknowledged is lost, nothing is counted twice, analytics equals the log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from callcenter_testkit.broker import DedicatedBroker
from callcenter_testkit.load import SteadyLoad
from callcenter_testkit.scenario import Scenario

pytestmark = [
    pytest.mark.faults,
    pytest.mark.kafka,
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.timeout(420),
]
REFUSED_WHILE_DOWN = 20
"""Writes refused while the broker is away: the outage was felt before it ends."""


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DedicatedBroker]:
    dedicated = DedicatedBroker(Path(tmp_path_factory.mktemp("broker")))
    dedicated.up()
    try:
        yield dedicated
    finally:
        dedicated.down()


@pytest.fixture(scope="module")
def kafka_bootstrap(broker: DedicatedBroker) -> str:
    """The platform of this module and its oracle use the dedicated broker."""
    return broker.bootstrap


async def test_broker_stop_and_restart_under_load(
    scenario: Scenario, broker: DedicatedBroker
) -> None:
    async def restart(load: SteadyLoad) -> int:
        refused = sum(load.tally.refused.values())
        stopped_s = await asyncio.to_thread(broker.stop)
        began = time.monotonic()
        while sum(load.tally.refused.values()) < refused + REFUSED_WHILE_DOWN:
            assert time.monotonic() - began < 60, "no write refused while the broker is down"
            await asyncio.sleep(0.1)
        ready_s = await broker.start_again()
        print(f"broker: stopped in {stopped_s:.1f} s, ready again {ready_s:.1f} s after start")
        return 1

    await scenario.run("broker stop and restart", restart)
