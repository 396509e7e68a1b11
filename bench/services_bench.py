"""Benchmark (h): each service restarted on a long history, and its memory idle and at load.

A generated history (`bench.history`: about `events` records of call lifecycles, agent status
changes and survey answers for ten tenants) is published once into fresh topics. Then:

1. Cold start, one service at a time on an empty database: time from process start to
   `/readyz` answering 200, and on until every consumer group of the process has no lag
   (`callcenter_consumer_lag` all zero): the first build of its state from the whole log.
2. Restart, one service at a time, on the database its cold start left: process start to
   `/readyz` 200 — the bar "a restarted service is ready again within 10 s after 1,000,000
   events". The baseline is the bare FastAPI app (`bench.bare_app`): interpreter start and
   imports, no state at all.
3. Memory: with all four services running (restarted), each one's RSS idle (caught up, no load)
   and its highest RSS sampled while intake takes calls at a steady rate for `seconds` (open
   loop, operator token). The bare app's RSS idle and under the same load is the baseline.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from callcenter_events.admin import ensure_topics
from prometheus_client.parser import text_string_to_metric_families

from bench.history import TENANTS
from bench.openloop import OpenLoopResult, build_post, run_open_loop
from bench.replay_bench import publish_history
from bench.servers import BenchError, Server, free_port, process_memory_mb, running_server

SERVICES = ("intake", "routing", "surveys", "analytics")
TOKEN = "bench-operator-token"
COLD_START_TIMEOUT_S = 1800.0
RESTART_BAR_S = 10.0
SAMPLE_EVERY_S = 0.25
CALL = {
    "tenant_id": TENANTS[0],
    "caller_phone": "+43111222333",
    "language": "de",
    "topic": "billing",
}


@dataclass(frozen=True, slots=True)
class ServicesOptions:
    bootstrap_servers: str
    topic_prefix: str
    work_dir: Path
    events: int
    rate: float
    seconds: float
    warmup: float
    connections: int


@dataclass(frozen=True, slots=True)
class Start:
    ready_s: float
    caught_up_s: float | None  # None: ready meant caught up (or not measured)


@dataclass(frozen=True, slots=True)
class Memory:
    idle_mb: float
    load_mb: float


@dataclass(frozen=True, slots=True)
class ServicesResult:
    options: ServicesOptions
    cold: dict[str, Start]
    restart: dict[str, Start]
    memory: dict[str, Memory]
    bare_start_s: float
    bare_memory: Memory
    load: OpenLoopResult
    bare_load: OpenLoopResult

    def problems(self) -> list[str]:
        slow = [
            f"{name} ready {start.ready_s:.1f} s after a restart"
            for name, start in self.restart.items()
            if start.ready_s > RESTART_BAR_S
        ]
        failed = self.load.non_2xx + self.load.errors + self.bare_load.non_2xx
        return slow + ([f"{failed} failed requests under load"] if failed else [])


def run(options: ServicesOptions) -> ServicesResult:
    prefix = f"{options.topic_prefix}services."
    print(f"services: publishing a history of ~{options.events:,} events", flush=True)
    asyncio.run(_publish(options.bootstrap_servers, prefix, options.events))
    env = _environment(options, prefix)
    cold = {name: _cold_start(name, env, options) for name in SERVICES}
    bare_start, bare_memory, bare_load = _bare(options)
    with contextlib.ExitStack() as stack:
        restart: dict[str, Start] = {}
        servers: dict[str, Server] = {}
        for name in SERVICES:
            started = time.monotonic()
            servers[name] = stack.enter_context(_service(name, env, options, f"{name}-restart"))
            restart[name] = Start(time.monotonic() - started, None)
            print(f"services: {name} restarted, ready in {restart[name].ready_s:.1f} s", flush=True)
        for server in servers.values():
            _wait_caught_up(server)
        idle = {name: process_memory_mb(server.pid) for name, server in servers.items()}
        load, peaks = _under_load(servers["intake"], list(servers.values()), options)
    memory = {name: Memory(idle[name], peaks[servers[name].pid]) for name in SERVICES}
    return ServicesResult(options, cold, restart, memory, bare_start, bare_memory, load, bare_load)


async def _publish(bootstrap: str, prefix: str, events: int) -> None:
    await ensure_topics(bootstrap, prefix=prefix)
    await publish_history(bootstrap, prefix, events)


def _environment(options: ServicesOptions, prefix: str) -> dict[str, str]:
    data = options.work_dir
    return {
        "KAFKA_BOOTSTRAP_SERVERS": options.bootstrap_servers,
        "CALLCENTER_TOPIC_PREFIX": prefix,
        "CALLCENTER_OPERATOR_TOKEN": TOKEN,
        "DATABASE_URL": f"sqlite:///{data / 'services-analytics.sqlite3'}",
        "INTAKE_DATABASE_URL": f"sqlite:///{data / 'services-intake.sqlite3'}",
        "SURVEYS_DATABASE_URL": f"sqlite:///{data / 'services-surveys.sqlite3'}",
        "ROUTING_DATABASE_URL": f"sqlite:///{data / 'services-routing.sqlite3'}",
        "ROUTING_HEARTBEAT_TIMEOUT_S": "36000",
        "LOG_LEVEL": "WARNING",
    }


@contextlib.contextmanager
def _service(
    name: str, env: dict[str, str], options: ServicesOptions, label: str
) -> Iterator[Server]:
    port = free_port()
    with running_server(
        label,
        ["-m", name],
        port=port,
        ready_path="/readyz",
        env={**env, f"{name.upper()}_PORT": str(port)},
        log_dir=options.work_dir,
        ready_timeout_s=COLD_START_TIMEOUT_S,
    ) as server:
        yield server


def _cold_start(name: str, env: dict[str, str], options: ServicesOptions) -> Start:
    started = time.monotonic()
    with _service(name, env, options, f"{name}-cold") as server:
        ready = time.monotonic() - started
        _wait_caught_up(server)
        caught_up = time.monotonic() - started
    print(f"services: {name} cold: ready {ready:.1f} s, caught up {caught_up:.1f} s", flush=True)
    return Start(ready, caught_up)


def _lags(server: Server) -> list[float]:
    text = httpx.get(f"http://{server.host}:{server.port}/metrics", timeout=10).text
    return [
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "callcenter_consumer_lag"
        for sample in family.samples
    ]


def _wait_caught_up(server: Server) -> None:
    """Every consumer group of the process has read its partitions to the end."""
    deadline = time.monotonic() + COLD_START_TIMEOUT_S
    while True:
        lags = _lags(server)
        if lags and not any(lags):
            return
        if time.monotonic() > deadline:
            raise BenchError(f"{server.name} did not catch up: consumer lag {lags}")
        time.sleep(0.2)  # polling interval, not a synchronisation


def _bare(options: ServicesOptions) -> tuple[float, Memory, OpenLoopResult]:
    port = free_port()
    started = time.monotonic()
    with running_server(
        "bare-app",
        ["-m", "bench.bare_app", "--port", str(port)],
        port=port,
        ready_path="/livez",
        env={"CALLCENTER_OPERATOR_TOKEN": TOKEN},
        log_dir=options.work_dir,
    ) as server:
        start_s = time.monotonic() - started
        idle = process_memory_mb(server.pid)
        load, peaks = _under_load(server, [server], options)
    return start_s, Memory(idle, peaks[server.pid]), load


def _under_load(
    target: Server, watched: list[Server], options: ServicesOptions
) -> tuple[OpenLoopResult, dict[int, float]]:
    """Calls posted to `target` at the steady rate; the highest RSS of each watched process."""
    peaks = {server.pid: process_memory_mb(server.pid) for server in watched}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_EVERY_S):
            for pid, peak in peaks.items():
                peaks[pid] = max(peak, process_memory_mb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    body = httpx.Request("POST", "/", json=CALL).content
    request = build_post(target.host, target.port, "/v1/calls", body, TOKEN)
    print(f"services: {options.rate:.0f} calls/s to {target.name} for {options.seconds:g} s")
    try:
        load = run_open_loop(
            target.host,
            target.port,
            request,
            rate=options.rate,
            seconds=options.seconds,
            warmup=options.warmup,
            connections=options.connections,
        )
    finally:
        done.set()
        sampler.join()
    return load, peaks
