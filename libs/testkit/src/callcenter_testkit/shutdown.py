"""A service stopped under load: writers that sort every answer, a timed SIGTERM, group offsets.

`WriteLoad` keeps a few writers sending until it is stopped and sorts each answer: acknowledged
(2xx, with its body), refused (no connection, or 503) or unexpected (anything else). `terminate`
sends SIGTERM and measures how long the process takes to exit. `committed_offsets` reads what a
consumer group committed, `consumed` what a service's metrics say one of its groups consumed.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka.admin import AIOKafkaAdminClient

from callcenter_testkit.processes import ServiceProcess

GRACE_PERIOD_S = 30.0
"""The pods' `terminationGracePeriodSeconds`: after it, Kubernetes kills the process."""
REFUSED_PAUSE_S = 0.01
"""A refused writer paces itself (it waits for nothing; it only leaves the CPU to the service)."""

Send = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


@dataclass
class Answers:
    acknowledged: list[dict[str, Any]] = field(default_factory=list)
    acknowledged_after_signal: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    refused_after_signal: int = 0
    unexpected: list[str] = field(default_factory=list)


class WriteLoad:
    """`writers` concurrent senders of `send(client, number)`, numbers counting up from 0."""

    def __init__(self, client: httpx.AsyncClient, send: Send, *, writers: int = 8) -> None:
        self.answers = Answers()
        self.signalled = False
        self.writers = writers
        self._client = client
        self._send = send
        self._numbers = itertools.count()
        self._stopping = asyncio.Event()
        self._tasks = [asyncio.create_task(self._write()) for _ in range(writers)]

    async def stop(self) -> Answers:
        self._stopping.set()
        await asyncio.gather(*self._tasks)
        return self.answers

    async def _write(self) -> None:
        while not self._stopping.is_set():
            try:
                answer = await self._send(self._client, next(self._numbers))
            except httpx.TransportError as exc:
                self._refused(type(exc).__name__)
                await asyncio.sleep(REFUSED_PAUSE_S)
                continue
            if answer.is_success:
                self.answers.acknowledged.append(answer.json())
                self.answers.acknowledged_after_signal += self.signalled
            elif answer.status_code == 503:
                self._refused("503")
                await asyncio.sleep(REFUSED_PAUSE_S)
            else:
                self.answers.unexpected.append(f"{answer.status_code} {answer.text[:300]}")

    def _refused(self, why: str) -> None:
        self.answers.refused[why] += 1
        self.answers.refused_after_signal += self.signalled


async def terminate(service: ServiceProcess, load: WriteLoad | None = None) -> tuple[int, float]:
    """SIGTERM (noted by `load`), and the exit code and seconds until the process exited.

    A process still running after the grace period is killed, as Kubernetes would (-9).
    """
    if load is not None:
        load.signalled = True
    began = time.monotonic()
    code = await asyncio.to_thread(service.stop, GRACE_PERIOD_S)
    seconds = time.monotonic() - began
    assert code is not None, f"{service.module} was not running"
    return code, seconds


async def committed_offsets(bootstrap: str, group: str) -> dict[tuple[str, int], int]:
    """The offsets `group` committed, per topic partition (the next offset it will read)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in found.items() if meta.offset >= 0}


async def consumed(client: httpx.AsyncClient, url: str, group: str) -> float:
    """How many records the service at `url` says its consumer `group` consumed so far."""
    metrics = await client.get(f"{url}/metrics")
    prefix = "callcenter_events_consumed_total{"
    total = 0.0
    for line in metrics.text.splitlines():
        if line.startswith(prefix) and f'group="{group}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total
