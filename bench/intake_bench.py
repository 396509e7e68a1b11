"""Benchmark (a): intake's `POST /v1/calls` against a bare FastAPI endpoint served the same way.

Intake is loaded in two ways, each by its own fresh process (own database file, own topics):
with the operator token, and with a tenant's API key and a fresh `Idempotency-Key` on every
request. The bare app is loaded with the operator token.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.intake_setup import create_api_key, create_tenant, post_json
from bench.openloop import OpenLoopResult, build_post, run_open_loop
from bench.servers import BenchError, Server, free_port, running_server
from bench.wrk import WrkResult, ensure_wrk, run_wrk, write_post_script

PATH = "/v1/calls"
TENANT = "acme"
CALL = {
    "caller_phone": "+493012345678",
    "language": "de-AT",
    "topic": "billing",
    "priority": 3,
    "required_skills": {"lang:de": 5, "billing": 3},
}
# The operator names the tenant; a tenant's key implies its own.
OPERATOR_BODY = json.dumps({"tenant_id": TENANT, **CALL}, separators=(",", ":"))
KEYED_BODY = json.dumps(CALL, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class IntakeOptions:
    bootstrap_servers: str
    topic_prefix: str
    seconds: float
    warmup: float
    threads: int
    connections: int
    work_dir: Path  # wrk scripts, server logs, intake's databases


@dataclass(frozen=True, slots=True)
class Load:
    """What every request carries: a JSON body, a Bearer token, maybe a fresh Idempotency-Key."""

    body: str
    token: str
    fresh_idempotency_key: bool = False


@dataclass(frozen=True, slots=True)
class ServerResult:
    name: str
    max_load: WrkResult
    cpu_percent: float  # of one core, during the measured wrk run
    half_load: OpenLoopResult


@dataclass(frozen=True, slots=True)
class IntakeResult:
    options: IntakeOptions
    intake: ServerResult  # operator token, no Idempotency-Key
    keyed: ServerResult  # a tenant's API key, a fresh Idempotency-Key per request
    bare: ServerResult

    @property
    def throughput_ratio(self) -> float:
        return self.intake.max_load.requests_per_s / self.bare.max_load.requests_per_s

    @property
    def keyed_throughput_ratio(self) -> float:
        return self.keyed.max_load.requests_per_s / self.bare.max_load.requests_per_s

    def problems(self) -> list[str]:
        """Why the run is not valid (errors in the answers); empty when it is."""
        found = []
        for server in (self.intake, self.keyed, self.bare):
            wrk, half = server.max_load, server.half_load
            if wrk.non_2xx or wrk.socket_errors:
                found.append(
                    f"{server.name} at max load: {wrk.non_2xx} non-2xx answers, "
                    f"{wrk.socket_errors} socket errors ({wrk.socket_error_detail or 'none'})"
                )
            if half.non_2xx or half.errors or half.unfinished:
                found.append(
                    f"{server.name} at half load: {half.non_2xx} non-2xx answers, "
                    f"{half.errors} connection errors, {half.unfinished} unanswered"
                )
        return found


def run(options: IntakeOptions) -> IntakeResult:
    """Each intake variant at its maximum and at half of it; the bare app at the higher rate."""
    wrk = ensure_wrk()
    token = f"bench-{secrets.token_hex(12)}"
    operator_load = Load(OPERATOR_BODY, token)

    with _intake("intake-operator", token, options) as server:
        create_tenant(server, token, TENANT)
        intake = _measure(wrk, server, operator_load, options)

    with _intake("intake-keyed", token, options) as server:
        create_tenant(server, token, TENANT)
        api_key = create_api_key(server, token, TENANT)
        keyed_load = Load(KEYED_BODY, api_key, fresh_idempotency_key=True)
        keyed = _measure(wrk, server, keyed_load, options)

    port = free_port()
    print(f"bare: starting on port {port}", flush=True)
    with running_server(
        "bare",
        ["-m", "bench.bare_app", "--port", str(port)],
        port=port,
        ready_path="/livez",
        env={"CALLCENTER_OPERATOR_TOKEN": token},
        log_dir=options.work_dir,
    ) as server:
        rate = max(intake.half_load.rate, keyed.half_load.rate)
        bare = _measure(wrk, server, operator_load, options, half_rate=rate)

    return IntakeResult(options=options, intake=intake, keyed=keyed, bare=bare)


@contextmanager
def _intake(name: str, token: str, options: IntakeOptions) -> Iterator[Server]:
    """`python -m intake` with a fresh database file and topics of its own."""
    port = free_port()
    prefix = f"{options.topic_prefix}{name.removeprefix('intake-')}."
    database = options.work_dir / name / "intake.sqlite3"
    env = {
        "INTAKE_PORT": str(port),
        "INTAKE_DATABASE_URL": f"sqlite:///{database.resolve()}",
        "KAFKA_BOOTSTRAP_SERVERS": options.bootstrap_servers,
        "CALLCENTER_TOPIC_PREFIX": prefix,
        "CALLCENTER_OPERATOR_TOKEN": token,
        "LOG_LEVEL": "WARNING",
    }
    print(f"{name}: starting on port {port} (topic prefix {prefix})", flush=True)
    with running_server(
        name, ["-m", "intake"], port=port, ready_path="/readyz", env=env, log_dir=options.work_dir
    ) as server:
        yield server


def _measure(
    wrk: str,
    server: Server,
    load: Load,
    options: IntakeOptions,
    *,
    half_rate: float | None = None,
) -> ServerResult:
    """Maximum load, then the open loop at `half_rate` (default: half the measured maximum)."""
    _check_one(server, load)
    max_load, cpu = _max_load(wrk, server, load, options)
    rate = max_load.requests_per_s / 2 if half_rate is None else half_rate
    half = _half_load(server, load, rate, options)
    return ServerResult(server.name, max_load, cpu, half)


def _check_one(server: Server, load: Load) -> None:
    """One request before the load: a wrong token or body would make every request fail."""
    fresh = load.fresh_idempotency_key
    headers = {"Idempotency-Key": f"check-{secrets.token_hex(8)}"} if fresh else {}
    status, answer = post_json(server, PATH, load.body, load.token, headers)
    if status != 202 or not isinstance(answer, dict) or not {"call_id", "position"} <= set(answer):
        raise BenchError(f"{server.name}: POST {PATH} answered {status}: {answer}")


def _max_load(
    wrk: str, server: Server, load: Load, options: IntakeOptions
) -> tuple[WrkResult, float]:
    script = write_post_script(
        options.work_dir / f"{server.name}.lua",
        load.body,
        load.token,
        fresh_idempotency_key=load.fresh_idempotency_key,
    )
    url = f"http://{server.host}:{server.port}{PATH}"
    common = {"threads": options.threads, "connections": options.connections}
    print(f"{server.name}: wrk warm-up {options.warmup:g} s", flush=True)
    run_wrk(wrk, url, script, seconds=options.warmup, **common)
    print(f"{server.name}: wrk max load {options.seconds:g} s", flush=True)
    cpu_before = server.cpu_seconds()
    result = run_wrk(wrk, url, script, seconds=options.seconds, **common)
    cpu_percent = 100 * (server.cpu_seconds() - cpu_before) / result.seconds
    return result, cpu_percent


def _half_load(server: Server, load: Load, rate: float, options: IntakeOptions) -> OpenLoopResult:
    print(f"{server.name}: open loop at {rate:.0f} req/s for {options.seconds:g} s", flush=True)
    prefix = secrets.token_hex(8) if load.fresh_idempotency_key else ""
    request = build_post(
        server.host, server.port, PATH, load.body.encode(), load.token, idempotency_prefix=prefix
    )
    return run_open_loop(
        server.host,
        server.port,
        request,
        rate=rate,
        seconds=options.seconds,
        warmup=options.warmup,
        connections=options.connections,
    )
