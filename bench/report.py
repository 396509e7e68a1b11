"""The results as a text table (stdout) and as `docs/benchmarks.md`."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench.intake_bench import IntakeResult, ServerResult
from bench.privacy_bench import PrivacyResult
from bench.producer_bench import JAVA_TOOL, ProducerResult
from bench.routing_bench import CAMPAIGN_EVERY, CHECKPOINTS, TICK_S, Latency, RoutingResult

THROUGHPUT_BAR = 0.60
HALF_LOAD_P99_BAR_MS = 25.0
PRIVACY_HEADING = "## Cost of encryption"
ROUTING_HEADING = "## Routing engine"
DECISION_P99_BAR_MS = 1.0


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [self.title]
        all_rows = [self.header, *self.rows]
        widths = [max(len(row[i]) for row in all_rows) for i in range(len(self.header))]
        for n, row in enumerate(all_rows):
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
            lines.append("  " + "  ".join(cells))
            if n == 0:
                lines.append("  " + "  ".join("-" * width for width in widths))
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)

    def markdown(self) -> str:
        lines = [
            "| " + " | ".join(self.header) + " |",
            "|" + "|".join(["---", *["---:"] * (len(self.header) - 1)]) + "|",
        ]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.notes:
            lines += ["", *[f"- {note}" for note in self.notes]]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Machine:
    cpu: str
    cores: int
    memory_gib: float
    os: str
    python: str
    kafka: str
    java: str
    libraries: str
    load_average: str
    date: str


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _percent(value: float) -> str:
    return f"{100 * value:.0f} %"


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def intake_table(result: IntakeResult) -> Table:
    servers = (result.intake, result.keyed, result.bare)

    def row(label: str, cell: Callable[[ServerResult], str], *ratios: str) -> list[str]:
        return [label, *(cell(server) for server in servers), *ratios, *[""] * (2 - len(ratios))]

    def errors(server: ServerResult) -> str:
        wrk, half = server.max_load, server.half_load
        return f"{wrk.non_2xx + half.non_2xx} / {wrk.socket_errors + half.errors}"

    ratio, keyed_ratio = result.throughput_ratio, result.keyed_throughput_ratio
    rows = [
        row(
            "max throughput (req/s)",
            lambda s: _rate(s.max_load.requests_per_s),
            _percent(ratio),
            _percent(keyed_ratio),
        ),
        row("p50 at max load (ms)", lambda s: _ms(s.max_load.p50_ms)),
        row("p99 at max load (ms)", lambda s: _ms(s.max_load.p99_ms)),
        row("server CPU at max load (% of a core)", lambda s: f"{s.cpu_percent:.0f}"),
        row("half load: open-loop rate (req/s)", lambda s: _rate(s.half_load.rate)),
        row("p50 at half load (ms)", lambda s: _ms(s.half_load.p50_ms)),
        row("p99 at half load (ms)", lambda s: _ms(s.half_load.p99_ms)),
        row("achieved rate at half load (req/s)", lambda s: _rate(s.half_load.achieved_rate)),
        row("non-2xx / errors (all phases measured)", errors),
    ]
    p99, keyed_p99 = result.intake.half_load.p99_ms, result.keyed.half_load.p99_ms
    bar = f"bar: intake/bare throughput >= {_percent(THROUGHPUT_BAR)}:"
    p99_bar = f"bar: intake p99 at half load < {HALF_LOAD_P99_BAR_MS:g} ms:"
    notes = [
        "operator token: the body names the tenant, no Idempotency-Key; API key: a tenant's "
        "key (scope calls:write) and a fresh Idempotency-Key on every request",
        f"{bar} operator token {_percent(ratio)}, {_verdict(ratio >= THROUGHPUT_BAR)}; "
        f"API key {_percent(keyed_ratio)}, {_verdict(keyed_ratio >= THROUGHPUT_BAR)}",
        f"{p99_bar} operator token {_ms(p99)} ms, {_verdict(p99 < HALF_LOAD_P99_BAR_MS)}; "
        f"API key {_ms(keyed_p99)} ms, {_verdict(keyed_p99 < HALF_LOAD_P99_BAR_MS)}",
        *[f"INVALID: {problem}" for problem in result.problems()],
    ]
    options = result.options
    return Table(
        title=(
            f"Intake POST /v1/calls vs bare FastAPI (wrk {options.threads} thread(s), "
            f"{options.connections} connections, {options.seconds:g} s after {options.warmup:g} s "
            f"warm-up; half load open loop)"
        ),
        header=[
            "",
            "intake, operator token",
            "intake, API key",
            "bare FastAPI",
            "operator / bare",
            "API key / bare",
        ],
        rows=rows,
        notes=notes,
    )


def producer_table(result: ProducerResult) -> Table:
    ours, java = result.ours, result.java
    options = result.options
    pcts = java.percentiles_ms
    rows = [
        ["events/s", _rate(ours.events_per_s), _rate(java.events_per_s), _percent(result.ratio)],
        ["MB/s (record values)", f"{ours.mb_per_s:.2f}", f"{java.mb_per_s:.2f}", ""],
        ["wall time (s)", f"{ours.seconds:.2f}", f"{java.records / java.events_per_s:.2f}", ""],
        [
            "CPU time (s)",
            f"{ours.cpu_seconds:.2f}",
            f"{java.cpu_seconds:.2f} (JVM start incl.)",
            "",
        ],
        [
            "send latency avg / p50 / p99 / max (ms)",
            "n/a",
            f"{java.avg_latency_ms:.0f} / {pcts.get('p50', float('nan')):.0f} / "
            f"{pcts.get('p99', float('nan')):.0f} / {java.max_latency_ms:.0f}",
            "",
        ],
        ["records in the topic afterwards", str(ours.stored), str(java.stored), ""],
    ]
    notes = [
        f"record value {ours.value_bytes} B (Java: --record-size {ours.value_bytes}); ours also "
        f"carries a {ours.key_bytes} B key and {ours.header_bytes} B of CloudEvents headers",
        f"ours: publish_all of {options.chunk} envelopes, {options.window} chunks in flight",
        *[f"INVALID: {problem}" for problem in result.problems()],
    ]
    return Table(
        title=(
            f"Producer: {options.records:,} call.received, 6 partitions, acks=all, idempotent "
            f"(EventProducer vs {JAVA_TOOL.rsplit('.', 1)[1]})"
        ),
        header=["", "ours (EventProducer)", "Java ProducerPerformance", "ours / Java"],
        rows=rows,
        notes=notes,
    )


def privacy_table(result: PrivacyResult) -> Table:
    options = result.options
    plain, sealed = result.plain, result.sealed
    rows = [
        [
            "publish, events/s (EventProducer, acks=all)",
            _rate(plain.events_per_s),
            _rate(sealed.events_per_s),
            _percent(result.publish_ratio),
        ],
        [
            "publish, wall / CPU time (s)",
            f"{plain.seconds:.2f} / {plain.cpu_seconds:.2f}",
            f"{sealed.seconds:.2f} / {sealed.cpu_seconds:.2f}",
            "",
        ],
        [
            f"sealing alone, events/s (no Kafka; {result.replay_subjects:,} keys created)",
            "n/a",
            _rate(result.sealing.events_per_s),
            "",
        ],
        [
            "sealing alone, events/s (no Kafka; every key known)",
            "n/a",
            _rate(result.resealing.events_per_s),
            "",
        ],
        [
            "replay, events/s (decode only; decode + reveal_event)",
            _rate(result.decode.events_per_s),
            _rate(result.reveal.events_per_s),
            _percent(result.replay_ratio),
        ],
        [
            "record value / headers (B)",
            f"{result.plain_value_bytes} / {result.plain_header_bytes}",
            f"{result.sealed_value_bytes:.0f} / {result.sealed_header_bytes}",
            "",
        ],
        [
            "records in the topic afterwards",
            str(result.plain_stored),
            str(result.sealed_stored),
            "",
        ],
    ]
    publish_cost = sealed.us_per_event - plain.us_per_event
    replay_cost = result.reveal.us_per_event - result.decode.us_per_event
    notes = [
        f"sealing adds {publish_cost:.0f} µs per event to publishing (sealing alone: "
        f"{result.sealing.us_per_event:.0f} µs per event creating keys, "
        f"{result.resealing.us_per_event:.0f} µs with every key known); revealing adds "
        f"{replay_cost:.0f} µs per event to a replay",
        f"with: caller_phone and customer_ref sealed per event (two subjects), callers drawn from "
        f"{options.callers:,} distinct ones; {result.subjects_created:,} subject keys created "
        "while publishing, in a MemoryKeyStore (in memory: no key-topic write per new subject)",
        f"replay: the {options.events:,} events of 'sealing alone', encoded in memory (no Kafka); "
        f"{result.replay_subjects:,} subject keys unwrapped on first use, then cached",
        f"publish: publish_all of {options.chunk} envelopes, {options.window} chunks in flight",
        *[f"INVALID: {problem}" for problem in result.problems()],
    ]
    return Table(
        title=(
            f"Cost of encryption: {options.events:,} call.received, 6 partitions, acks=all, "
            "idempotent (without personal data vs caller_phone and customer_ref sealed)"
        ),
        header=["", "without personal data", "with, sealed", "with / without"],
        rows=rows,
        notes=notes,
    )


def _latency(value: Latency, *, full: bool = True) -> str:
    cells = (
        (value.p50_ms, value.p90_ms, value.p99_ms, value.max_ms)
        if full
        else (
            value.p50_ms,
            value.p99_ms,
        )
    )
    return " / ".join(_ms(cell) for cell in cells)


def _times(engine: float, baseline: float) -> str:
    return f"{engine / baseline:,.0f}x" if engine >= baseline else f"{engine / baseline:.2f}x"


def routing_tables(result: RoutingResult) -> list[Table]:
    """The engine against the naive matcher; the bare matching pass; the profile."""
    options = result.options
    decision, naive = result.decision, result.naive_decision
    enqueue, naive_enqueue = result.enqueue, result.naive_enqueue
    memory = result.memory
    rows = [
        [
            "decision on wrap_up (an agent freed), p50 / p90 / p99 / max (ms)",
            _latency(decision),
            _latency(naive),
            f"{_times(decision.p50_ms, naive.p50_ms)} / {_times(decision.p99_ms, naive.p99_ms)}",
        ],
        [
            "decisions timed / with an offer",
            f"{decision.count} / {result.decision_offers}",
            f"{naive.count} / {result.naive_decision_offers}",
            "",
        ],
        [
            f"decision on enqueue ({options.free_agents} agents free), p50 / p99 (ms)",
            _latency(enqueue, full=False),
            _latency(naive_enqueue, full=False),
            f"{_times(enqueue.p50_ms, naive_enqueue.p50_ms)} / "
            f"{_times(enqueue.p99_ms, naive_enqueue.p99_ms)}",
        ],
        [
            "enqueues timed / with an offer",
            f"{enqueue.count} / {result.enqueue_offers}",
            f"{naive_enqueue.count} / {result.naive_enqueue_offers}",
            "",
        ],
        [
            "same choice as the engine (decisions and enqueues)",
            "",
            f"{result.same_decisions} of {result.steps}",
            "",
        ],
        [
            f"end_call / accept, no agent free, p50 (ms; {result.end_call.count} each)",
            f"{_ms(result.end_call.p50_ms)} / {_ms(result.accept.p50_ms)}",
            "n/a",
            "",
        ],
        [
            "RSS before setup / after (MB)",
            f"{memory.rss_before_mb:.0f} / {memory.rss_engine_mb:.0f} "
            f"(+{memory.rss_engine_mb - memory.rss_before_mb:.0f})",
            f"+{memory.rss_baseline_mb - memory.rss_engine_mb:.0f} (after the engine's)",
            "",
        ],
        [
            "state after setup, tracemalloc (MB)",
            f"{memory.engine_traced_mb:.1f}",
            "n/a",
            "",
        ],
        ["setup through the commands (s)", f"{result.setup_seconds:.1f}", "", ""],
    ]
    p99 = max(decision.p99_ms, enqueue.p99_ms)
    notes = [
        f"bar: routing engine alone, p99 decision <= {DECISION_P99_BAR_MS:g} ms with "
        f"{options.agents:,} agents, {result.skills} skills, {options.waiting:,} waiting calls: "
        f"wrap_up {_ms(decision.p99_ms)} ms, enqueue {_ms(enqueue.p99_ms)} ms, "
        f"{_verdict(p99 <= DECISION_P99_BAR_MS)}",
        f"{result.queues:,} distinct queues (tenant, priority, requirements) among the "
        f"{options.waiting:,} waiting calls; every agent busy while the decisions are timed",
        f"RSS at the end of the run (peak) {memory.max_rss_mb:.0f} MB; the traced setup took "
        f"{memory.traced_seconds:.1f} s",
        *[f"INVALID: {problem}" for problem in result.problems()],
    ]
    main = Table(
        title=(
            f"Routing engine: {options.agents:,} agents, {result.skills} skills, "
            f"{options.waiting:,} waiting calls in {result.queues:,} queues (engine vs a naive "
            "matcher, the baseline)"
        ),
        header=["", "engine", "baseline: naive matcher", "engine / baseline (p50 / p99)"],
        rows=rows,
        notes=notes,
    )
    passes = Table(
        title="The engine's matching pass alone (`advance`), every agent busy, median of 3",
        header=["waiting calls", "queues", "ms", "us per queue"],
        rows=[
            [
                f"{point.waiting:,}",
                f"{point.queues:,}",
                _ms(point.ms),
                f"{1e3 * point.ms / point.queues:.1f}",
            ]
            for point in result.checkpoints
        ],
    )
    profile = Table(
        title=(
            f"cProfile of {options.profiled} more decisions (wrap_up) with "
            f"{result.profile_queues:,} queues, per decision, by cumulative time"
        ),
        header=["function", "calls", "own (ms)", "cumulative (ms)"],
        rows=[
            [
                f"`{row.function}`",
                f"{row.calls:,.0f}",
                f"{row.own_ms:.1f}",
                f"{row.cumulative_ms:.1f}",
            ]
            for row in result.profile
        ],
        notes=["cProfile's own overhead per call inflates the functions called most often"],
    )
    return [main, passes, profile]


def machine() -> Machine:
    return Machine(
        cpu=_cpu_model(),
        cores=os.cpu_count() or 0,
        memory_gib=_memory_gib(),
        os=f"{_os_name()}, Linux {platform.release()}",
        python=platform.python_version(),
        kafka=os.environ.get("KAFKA_VERSION", "4.1.1"),
        java=_java_version(),
        libraries=", ".join(
            f"{name} {version(name)}" for name in ("fastapi", "uvicorn", "pydantic", "aiokafka")
        ),
        load_average=" / ".join(f"{x:.2f}" for x in os.getloadavg()),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def _java_version() -> str:
    try:
        done = subprocess.run(
            ["java", "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return "unknown"
    lines = (done.stderr or done.stdout).splitlines()
    return lines[0].strip() if lines else "unknown"


def markdown_document(
    machine: Machine,
    command: str,
    intake: IntakeResult | None,
    producer: ProducerResult | None,
    privacy: PrivacyResult | None = None,
    routing: RoutingResult | None = None,
) -> str:
    parts = [
        "# Benchmarks",
        "",
        f"Latest results of `{command}` (written by `python -m bench`; do not edit by hand). "
        "Each benchmark runs side by side with its baseline in the same run, on the same "
        "machine and broker, so the ratios matter more than the absolute numbers. "
        "[performance.md](performance.md) lists every quality bar of PRODUCT.md with where "
        "it stands, and for each bar not met the profile and what was tried.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {machine.cpu} |",
        f"| cores | {machine.cores} |",
        f"| memory | {machine.memory_gib:.1f} GiB |",
        f"| OS | {machine.os} |",
        f"| Python | {machine.python} |",
        f"| Kafka | {machine.kafka} (single local KRaft broker, `deploy/kafka.sh`) |",
        f"| Java | {machine.java} |",
        f"| libraries | {machine.libraries} |",
        f"| load average at start (1/5/15 min) | {machine.load_average} |",
        f"| date | {machine.date} |",
        f"| command | `{command}` |",
        "",
        "The broker, the load generator and the server under test share these cores; "
        "other work on the machine during the run shows up in the numbers.",
    ]
    if intake is not None:
        parts += ["", intake_section(intake)]
    if producer is not None:
        parts += ["", producer_section(producer)]
    if privacy is not None:
        parts += ["", privacy_section(privacy)]
    if routing is not None:
        parts += ["", routing_section(routing)]
    return "\n".join(parts) + "\n"


INTAKE_HEADING = "## Intake `POST /v1/calls` vs a bare FastAPI endpoint"
PRODUCER_HEADING = "## Producer: `EventProducer` vs Kafka's `ProducerPerformance`"


def intake_section(result: IntakeResult, separate_run: tuple[Machine, str] | None = None) -> str:
    return section_of(INTAKE_HEADING, intake_table(result), _intake_method(result), separate_run)


def producer_section(
    result: ProducerResult, separate_run: tuple[Machine, str] | None = None
) -> str:
    table = producer_table(result)
    return section_of(PRODUCER_HEADING, table, _producer_method(result), separate_run)


def section_of(
    heading: str, table: Table, method: str, separate_run: tuple[Machine, str] | None
) -> str:
    """A `## ` section of docs/benchmarks.md: the table, then how it was measured."""
    parts = [heading, ""]
    if separate_run is not None:
        parts += separate_run_note(separate_run)
    parts += [table.markdown(), "", method]
    return "\n".join(parts)


def separate_run_note(separate_run: tuple[Machine, str], also: str = "") -> list[str]:
    """When and how a section run alone was measured (the machine table is the full run's)."""
    machine, command = separate_run
    return [
        f"Measured in a separate run of `{command}` on {machine.date} (load average at "
        f"start {machine.load_average}; same machine as above: {machine.cpu}, "
        f"{machine.cores} cores, Python {machine.python}).{also}",
        "",
    ]


def privacy_section(result: PrivacyResult, separate_run: tuple[Machine, str] | None = None) -> str:
    """The "Cost of encryption" section; `separate_run` (machine, command) when it was run alone.

    A section run alone is merged into the existing document (`merge_section`), so it says when
    and how it was measured: the machine table above belongs to the run that wrote the rest.
    """
    parts = [PRIVACY_HEADING, ""]
    if separate_run is not None:
        parts += separate_run_note(separate_run)
    parts += [privacy_table(result).markdown(), "", _privacy_method(result)]
    return "\n".join(parts)


def routing_section(result: RoutingResult, separate_run: tuple[Machine, str] | None = None) -> str:
    """The "Routing engine" section; `separate_run` (machine, command) when it was run alone."""
    parts = [ROUTING_HEADING, ""]
    if separate_run is not None:
        parts += separate_run_note(separate_run, " No Kafka: the engine alone.")
    main, passes, profile = routing_tables(result)
    parts += [main.markdown(), "", _routing_method(result), ""]
    parts += [f"**{passes.title}.**", "", passes.markdown(), ""]
    parts += [f"**{profile.title}.**", "", profile.markdown()]
    return "\n".join(parts)


def merge_section(document: str, section: str) -> str:
    """`document` with the `## ` section of the same heading as `section` replaced (or added)."""
    heading = section.split("\n", 1)[0]
    lines = document.rstrip("\n").split("\n")
    if heading not in lines:
        return "\n".join([*lines, "", section]) + "\n"
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    after = ["", *lines[end:]] if end < len(lines) else []
    return "\n".join([*lines[:start], section, *after]) + "\n"


def _intake_method(result: IntakeResult) -> str:
    options = result.options
    return (
        "**What is compared.** Intake as it is deployed — `python -m intake`, i.e. the "
        "body-size limit and correlation middleware, the problem handlers, the Bearer token "
        "dependency, validation of `CallCreate`, building the `call.received` event, "
        "`EventProducer.publish` waiting for the broker's acknowledgement (acks=all, "
        "idempotent), then recording the call in intake's own call store (a SQLite "
        "transaction, in a worker thread) before it answers 202 with the log position; the "
        "call projection of the same process reads the event back from the log and applies "
        "it again — loaded in two ways. *Operator token*: the operator's token, the body names "
        "the tenant (which must exist: it is created through `POST /v1/tenants` before the "
        "load), no `Idempotency-Key`. *API key*: a key of the tenant with the scope "
        "`calls:write` (created through `POST /v1/tenants/{id}/api-keys`; the tenant's "
        "`api_rate_limit_per_s` is 10,000, the maximum, so the limit never answers 429), and "
        "a fresh `Idempotency-Key` on every request (a random prefix per wrk thread and per "
        "open-loop run, then a counter), which adds the API-key lookup (SHA-256 of the key, "
        "compared with the tenant directory's hash) and the per-key token bucket, the request "
        "hash (canonical JSON, SHA-256) and the idempotency-key store: one SQLite insert "
        "before the write and one update with the answer after it, per request, each in a "
        "worker thread, in intake's own database. Each way is served by its own fresh intake "
        "process with its own fresh database file (`INTAKE_DATABASE_URL` in the run's "
        "temporary directory) and its own topics. The baseline is `bench/bare_app.py`: FastAPI "
        "with the same route, the same `CallCreate` body, the same operator-token check (one "
        "`async def` dependency, as intake's) and the same 202 `{call_id, position}` answer "
        "(a fresh uuid, a fake position), but no Kafka, no database and no middleware, loaded "
        "with the operator's request. All are one uvicorn process with uvloop and httptools "
        "and no access log, started as subprocesses on free ports and loaded only once they "
        "answer (`/readyz` for intake, `/livez` for the bare app), one after the other. Intake "
        "writes into topics with a fresh `bench-<random>.` prefix, deleted afterwards. "
        f"**How.** Maximum load: wrk {options.threads} thread(s), {options.connections} "
        "keep-alive connections, POSTing the same valid JSON body with the token, "
        f"{options.warmup:g} s warm-up then {options.seconds:g} s measured; requests/s and "
        "p50/p99 come from wrk's `--latency` report (closed loop: at the maximum the latency "
        "is mostly queueing). Server CPU is read from `/proc` during the measured run. Half "
        "load: wrk cannot hold a rate, so `bench/openloop.py` (asyncio streams on uvloop, "
        f"{options.connections} keep-alive connections) sends at a fixed rate — for each "
        "intake way half of its own measured maximum, for the bare app the higher of the two "
        f"— for {options.warmup:g} s warm-up then {options.seconds:g} s, and measures each "
        "latency from the request's scheduled send time, so requests that queue behind a slow "
        "one count (no coordinated omission). Any non-2xx answer or connection error makes "
        "the run invalid. Intake's broker round trip also costs CPU in the broker, which "
        "shares the cores with the server and wrk."
    )


def _producer_method(result: ProducerResult) -> str:
    options, ours = result.options, result.ours
    return (
        f"**What is compared.** Our `EventProducer` (aiokafka, acks=all, idempotent, linger "
        f"2 ms) publishing {options.records:,} `call.received` envelopes "
        "(`callcenter_events.testing.call_received` with distinct call ids, so the keys spread "
        "over the partitions), against Kafka's own Java "
        f"`{JAVA_TOOL}` writing {options.records:,} records of the same value size "
        f"({ours.value_bytes} B, measured with `callcenter_events.codec.encode`) with "
        "`acks=all enable.idempotence=true` and otherwise default settings. Each writes into "
        "its own fresh topic with the partitions of the calls topic (6), one after the other "
        "on the same broker in the same run; the records in each topic are counted "
        "afterwards (sum of end offsets). "
        "**How.** The envelopes are built before the clock starts; the clock runs from the "
        "first `publish_all` to the last acknowledgement, so encoding (part of `publish_all`) "
        f"is included. `publish_all` takes chunks of {options.chunk} envelopes and "
        f"{options.window} chunks are in flight at once (workers sharing one iterator of "
        "chunks: a sliding window). Tried on this machine with 100,000 records: one chunk of "
        "1000 at a time was as fast within the noise, 8 chunks in flight, chunks of 500, 2000 "
        "or 4000 were slower; the shape matters little because the Python side is CPU-bound "
        "(its CPU time is close to its wall time). CPU time is `getrusage` of the benchmark "
        "process for ours and of the JVM (start-up and JIT included) for Java. Java's rate "
        "and latencies are its own final summary line, timed from its first send, without "
        "JVM start-up. Differences in Java's favour: its records carry no key (the sticky "
        "partitioner fills one batch at a time) and no headers, while ours carry a "
        f"{ours.key_bytes} B key and {ours.header_bytes} B of CloudEvents headers; MB/s counts "
        "record values only, for both."
    )


def _privacy_method(result: PrivacyResult) -> str:
    options = result.options
    return (
        "**What is compared.** `call.received` events published through `EventProducer` "
        "(aiokafka, acks=all, idempotent, linger 2 ms), each way into its own fresh topic with "
        "the partitions of the calls topic (6): *without* personal data (`caller_phone` and "
        "`customer_ref` None, as a call of an unknown caller), and *with* a caller's number and "
        "a customer reference, sealed by `Vault.seal_event` right before publishing, the way "
        "intake seals a call: the event is about the customer, the number is sealed for its "
        "own phone subject (per event two HMAC-SHA256 lookups and two AES-256-GCM seals, the "
        "sealed event a `model_copy`). The calls draw their callers at random (fixed seed) "
        f"from {options.callers:,} distinct callers, each a number and a customer reference, "
        "so the first call of a caller creates two subject keys (a random data key, wrapped "
        "under the master key); "
        f"{result.subjects_created:,} were created during the {options.events:,} calls. The "
        "vault keeps its keys in a `MemoryKeyStore`: creating a key costs no broker round "
        "trip here, while a service's `KafkaKeyStore` waits for the key topic's "
        "acknowledgement on a caller's first call (not measured). "
        "**How.** The events are built before the clock starts; the clock runs from the "
        "first `publish_all` to the last acknowledgement; each way wraps every event in its "
        "envelope (sealing it first, for *with*) and publishes `publish_all` chunks of "
        f"{options.chunk} envelopes with {options.window} chunks in flight, as the producer "
        "benchmark does, so sealing one chunk overlaps the broker's work on the others. "
        "*Sealing alone*: the same events sealed one after the other by a fresh vault, no "
        "envelopes, no Kafka, then sealed again by the same vault, which now knows every "
        "subject (the steady state of a service whose callers call again). *Replay*: the "
        "events of the first pass, wrapped and encoded in memory "
        "with `codec.encode` (not read back from Kafka); the clock times `codec.decode` of "
        "every record, then `codec.decode` and `Vault.reveal_event` of every record by a "
        "fresh vault whose key store holds the subjects' key records, as a replaying service "
        "holds them after reading the key topic: the first reveal of a subject unwraps its "
        f"key ({result.replay_subjects:,} unwraps), later ones find it in the vault's key "
        "cache. A sample of the revealed events is compared with the originals. All run one "
        "after the other in one process, on the same broker in the same run; CPU time is "
        "`getrusage` of that process. Before each timed phase the garbage collector runs and "
        "freezes what lives at that moment (`gc.freeze`), so its full collections do not scan "
        "the benchmark's prebuilt events, which no service holds. "
        f"cryptography {version('cryptography')}."
    )


def _routing_method(result: RoutingResult) -> str:
    options = result.options
    checkpoints = ", ".join(f"{count:,}" for count in CHECKPOINTS)
    return (
        "**What is compared.** The pure routing engine (`routing.domain.engine.Engine`) driven "
        "through its commands in one process, no Kafka, no service around it, against a naive "
        "matcher written in the benchmark (`bench/routing_bench.py`, `NaiveRouter`): one list "
        "of waiting calls in priority then arrival order; a freed agent scans it from the head "
        "and takes the first call whose requirements it meets; a new call scans the free "
        "agents for the longest idle one that meets them; the offer is the assignment (no "
        "offer state, no accept) and nothing explains the choice, while the engine's decision "
        "lists candidates, scores and reasons. The baseline replays the engine's operations "
        "in the same order on the same data (its setup assigns the busy calls directly), and "
        "its choices are compared with the engine's. "
        f"**Data** (fixed seed): {options.agents:,} agents over {result.skills} skills: 20 "
        "tenants (`tenant:tNN`, uniform), 10 languages (`lang:xx`, weights 1/rank) and 170 "
        "topics; each agent has one or two tenants, one or two languages and three to six of "
        "160 inbound topics (weights 1/sqrt(rank)), levels 1-10 at random, capacity 1; every "
        f"{CAMPAIGN_EVERY}th agent works outbound campaigns instead (two or three of 10 "
        "`topic:campaign-NN`, which no inbound call needs). A call's requirements are what "
        "intake derives (`requirements_of`: its tenant, language and topic at level 1), drawn "
        "from a random inbound agent's skills so that some agent qualifies, priority 0, 1 or 2 "
        "(weights 6:3:1). Default policy: longest idle, no escalation. "
        "**Setup**, through the commands: every agent upserted and set available; then, in id "
        "order, a call of each agent's own kind enqueued (it is offered to that agent, every "
        "lower one being busy) and accepted; then the waiting calls enqueued. "
        "**Decisions.** A random busy inbound agent's call ends (`end_call`), then its wrap-up "
        "is submitted (`wrap_up`): the agent is free and the engine decides which waiting call "
        "it gets; that `wrap_up` call is timed (`time.perf_counter_ns`), then the offer is "
        "accepted and one more waiting call enqueued, so every agent stays busy and "
        f"{options.waiting:,} calls wait throughout. An agent that qualifies for no waiting "
        "call would get a call of its own kind. Then "
        f"{options.free_agents} campaign agents are freed and {options.enqueues} campaign "
        "calls enqueued one by one (each `enqueue` timed; its agent freed again afterwards). "
        f"The first {result.end_call.count} decisions also time `end_call` and `accept`. "
        f"{options.decisions} decisions and {options.enqueues} enqueues "
        "(`--routing-decisions`, `--routing-enqueues`), not thousands: a decision costs "
        f"{result.decision.mean_ms:.0f} ms on average here, and the run is kept short. "
        "**Skipped matching passes.** Every engine command ends with a matching pass that "
        "tries the head of every non-empty queue; where no agent is free, or the free agents "
        "qualify for no waiting call (the waiting calls' setup, the untimed `end_call`, "
        "`accept` and enqueue of the next waiting call, freeing campaign agents), the benchmark "
        "skips it (it shadows `Engine._match` on the instance) because it offers nothing and "
        "leaves the state as it was, and the setup would otherwise run "
        f"{options.waiting:,} of them. Checked: a full pass at the end offers nothing "
        f"({result.late_offers} offers), and a full pass at {checkpoints} waiting calls (the "
        "second table) offers nothing either. Timed commands always run in full. "
        "**Memory**: VmRSS of the process before and after the engine's setup (the inputs "
        "already built) and after the baseline's; the engine's state is what a second, "
        "identical setup allocates and still holds under tracemalloc (ids and skill names "
        "built before are not counted). **Profile**: more decisions after the timed ones, "
        "under cProfile, not in the latencies. The simulated clock moves "
        f"{1e3 * TICK_S:g} ms per command, so no timer (offer timeout, heartbeat, wrap-up "
        "limit) comes due in a run. The inputs are frozen out of the garbage collector's scans "
        "(`gc.freeze`); the engine's state is not."
    )
