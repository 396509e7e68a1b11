"""A fault scenario: the steady load flows, a fault strikes, the load goes on; then the oracle.

`Scenario.run(name, fault)` drives one tenant's `SteadyLoad`, calls `fault(load)` once enough
calls were acknowledged, waits for as many again, stops the load (every call ends), checks
everything with the `Oracle`, and adds what it covered to the `faults` counts.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from callcenter_testkit.load import SteadyLoad, Tally, Urls
from callcenter_testkit.oracle import Checked, Oracle
from callcenter_testkit.platform import Platform
from callcenter_testkit.tally import count

RATE = 12.0
"""Calls per second of the steady load."""
AGENTS = 8
READY_S = 180.0
"""How long a (re)started service may take to be ready: the suite runs beside others on two
cores, where a start under load has taken over a minute."""
BEFORE_FAULT = 40
"""Calls acknowledged before a fault (the load is flowing) and again after it (it goes on)."""
AFTER_CONNECTS = 20
"""Calls taken by agents after the fault: routing routes again, agents work again."""
Fault = Callable[[SteadyLoad], Awaitable[int]]
"""Injects a fault while the load flows; answers how many faults it injected."""


@dataclass
class Scenario:
    platform: Platform
    bootstrap: str
    client: httpx.AsyncClient
    tenant: str
    survey_id: str

    @property
    def urls(self) -> Urls:
        return Urls(
            self.platform.url("intake"), self.platform.url("routing"), self.platform.url("surveys")
        )

    def load(self) -> SteadyLoad:
        return SteadyLoad(
            self.client, self.urls, self.tenant, self.survey_id, agents=AGENTS, rate=RATE
        )

    def oracle(self) -> Oracle:
        return Oracle(
            self.client,
            self.bootstrap,
            self.platform.topic_prefix,
            self.urls,
            self.platform.url("analytics"),
            self.tenant,
            self.survey_id,
        )

    async def run(self, name: str, fault: Fault) -> tuple[Tally, Checked]:
        """The load flows, the fault strikes, the load goes on, stops; then every check."""
        phases: dict[str, float] = {}
        clock = [time.monotonic()]

        def lap(phase: str) -> None:
            now = time.monotonic()
            phases[phase] = round(now - clock[0], 1)
            clock[0] = now

        load = self.load()
        await load.start()
        await load.acknowledged_calls(BEFORE_FAULT)
        lap("before")
        injected = await fault(load)
        lap("fault")
        await load.acknowledged_calls(BEFORE_FAULT, timeout=120, connected=AFTER_CONNECTS)
        lap("after")
        tally = await load.stop()
        lap("stop")
        checked = await self.oracle().check(tally.acks, load.agent_ids)
        lap("checks")
        report(name, injected, tally, checked, phases)
        return tally, checked


def report(
    name: str, injected: int, tally: Tally, checked: Checked, phases: dict[str, float]
) -> None:
    count("faults", "faults injected", injected)
    count("faults", "calls", checked.calls)
    count("faults", "acknowledged writes checked", checked.acks)
    count("faults", "records checked", checked.records)
    count("faults", "intake timelines checked", checked.timelines)
    count("faults", "survey responses checked", checked.responses)
    count("faults", "refused requests (retried)", sum(tally.refused.values()))
    print(
        f"{name}: {injected} faults; seconds {phases};"
        f" {len(tally.calls)} calls, {checked.acks} acknowledged writes all in the log,"
        f" {checked.records} records read ({checked.undecodable} undecodable,"
        f" {checked.repeated_ids} repeated ids), {checked.calls} call states {checked.states},"
        f" {checked.timelines} timelines, {checked.responses} responses agree;"
        f" refused {dict(tally.refused)}, conflicts {dict(tally.conflicts)},"
        f" server errors {len(tally.server_errors)}, given up {tally.given_up}"
    )
    assert not tally.given_up, tally.given_up
