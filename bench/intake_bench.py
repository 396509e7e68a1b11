"""Benchmark (a): intake's `POST /v1/calls` against a bare FastAPI endpoint served the same way."""

from __future__ import annotations

import http.client
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from bench.openloop import OpenLoopResult, build_post, run_open_loop
from bench.servers import BenchError, Server, free_port, running_server
from bench.wrk import WrkResult, ensure_wrk, run_wrk, write_post_script

PATH = "/v1/calls"
BODY = json.dumps(
    {
        "tenant_id": "acme",
        "caller_phone": "+493012345678",
        "language": "de-AT",
        "topic": "billing",
        "priority": 3,
        "required_skills": {"lang:de": 5, "billing": 3},
    },
    separators=(",", ":"),
)


@dataclass(frozen=True, slots=True)
class IntakeOptions:
    bootstrap_servers: str
    topic_prefix: str
    seconds: float
    warmup: float
    threads: int
    connections: int
    log_dir: Path


@dataclass(frozen=True, slots=True)
class ServerResult:
    name: str
    max_load: WrkResult
    cpu_percent: float  # of one core, during the measured wrk run
    half_load: OpenLoopResult


@dataclass(frozen=True, slots=True)
class IntakeResult:
    options: IntakeOptions
    intake: ServerResult
    bare: ServerResult
    half_rate: float

    @property
    def throughput_ratio(self) -> float:
        return self.intake.max_load.requests_per_s / self.bare.max_load.requests_per_s

    def problems(self) -> list[str]:
        """Why the run is not valid (errors in the answers); empty when it is."""
        found = []
        for server in (self.intake, self.bare):
            wrk, half = server.max_load, server.half_load
            if wrk.non_2xx or wrk.socket_errors:
                found.append(
                    f"{server.name} at max load: {wrk.non_2xx} non-2xx answers, "
                    f"{wrk.socket_errors} socket errors"
                )
            if half.non_2xx or half.errors or half.unfinished:
                found.append(
                    f"{server.name} at half load: {half.non_2xx} non-2xx answers, "
                    f"{half.errors} connection errors, {half.unfinished} unanswered"
                )
        return found


def run(options: IntakeOptions) -> IntakeResult:
    wrk = ensure_wrk()
    token = f"bench-{secrets.token_hex(12)}"
    script = write_post_script(options.log_dir / "post.lua", BODY, token)

    port = free_port()
    intake_env = {
        "INTAKE_PORT": str(port),
        "KAFKA_BOOTSTRAP_SERVERS": options.bootstrap_servers,
        "CALLCENTER_TOPIC_PREFIX": options.topic_prefix,
        "CALLCENTER_OPERATOR_TOKEN": token,
        "LOG_LEVEL": "WARNING",
    }
    print(f"intake: starting on port {port} (topic prefix {options.topic_prefix})", flush=True)
    with running_server(
        "intake",
        ["-m", "intake"],
        port=port,
        ready_path="/readyz",
        env=intake_env,
        log_dir=options.log_dir,
    ) as server:
        max_load, cpu = _max_load(wrk, server, script, token, options)
        half_rate = max_load.requests_per_s / 2
        half = _half_load(server, token, half_rate, options)
        intake = ServerResult("intake", max_load, cpu, half)

    port = free_port()
    print(f"bare: starting on port {port}", flush=True)
    with running_server(
        "bare",
        ["-m", "bench.bare_app", "--port", str(port)],
        port=port,
        ready_path="/livez",
        env={"CALLCENTER_OPERATOR_TOKEN": token},
        log_dir=options.log_dir,
    ) as server:
        max_load, cpu = _max_load(wrk, server, script, token, options)
        half = _half_load(server, token, half_rate, options)
        bare = ServerResult("bare", max_load, cpu, half)

    return IntakeResult(options=options, intake=intake, bare=bare, half_rate=half_rate)


def _check_one(server: Server, token: str) -> None:
    """One request before the load: a wrong token or body would make every request fail."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=15)
    try:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        conn.request("POST", PATH, body=BODY, headers=headers)
        answer = conn.getresponse()
        text = answer.read().decode(errors="replace")
    finally:
        conn.close()
    if answer.status != 202 or not {"call_id", "position"} <= set(json.loads(text)):
        raise BenchError(f"{server.name}: POST {PATH} answered {answer.status}: {text}")


def _max_load(
    wrk: str, server: Server, script: Path, token: str, options: IntakeOptions
) -> tuple[WrkResult, float]:
    _check_one(server, token)
    url = f"http://{server.host}:{server.port}{PATH}"
    common = {"threads": options.threads, "connections": options.connections}
    print(f"{server.name}: wrk warm-up {options.warmup:g} s", flush=True)
    run_wrk(wrk, url, script, seconds=options.warmup, **common)
    print(f"{server.name}: wrk max load {options.seconds:g} s", flush=True)
    cpu_before = server.cpu_seconds()
    result = run_wrk(wrk, url, script, seconds=options.seconds, **common)
    cpu_percent = 100 * (server.cpu_seconds() - cpu_before) / result.seconds
    return result, cpu_percent


def _half_load(server: Server, token: str, rate: float, options: IntakeOptions) -> OpenLoopResult:
    print(f"{server.name}: open loop at {rate:.0f} req/s for {options.seconds:g} s", flush=True)
    request = build_post(server.host, server.port, PATH, BODY.encode(), token)
    return run_open_loop(
        server.host,
        server.port,
        request,
        rate=rate,
        seconds=options.seconds,
        warmup=options.warmup,
        connections=options.connections,
    )
