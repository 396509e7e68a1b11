"""The results as a text table (stdout) and as `docs/benchmarks.md`."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench.intake_bench import IntakeResult
from bench.producer_bench import JAVA_TOOL, ProducerResult

THROUGHPUT_BAR = 0.60
HALF_LOAD_P99_BAR_MS = 25.0


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
    intake, bare = result.intake, result.bare
    half = f"{_rate(result.half_rate)} req/s"

    def row(label: str, a: str, b: str, ratio: str = "") -> list[str]:
        return [label, a, b, ratio]

    rows = [
        row(
            "max throughput (req/s)",
            _rate(intake.max_load.requests_per_s),
            _rate(bare.max_load.requests_per_s),
            _percent(result.throughput_ratio),
        ),
        row("p50 at max load (ms)", _ms(intake.max_load.p50_ms), _ms(bare.max_load.p50_ms)),
        row("p99 at max load (ms)", _ms(intake.max_load.p99_ms), _ms(bare.max_load.p99_ms)),
        row(
            "server CPU at max load (% of a core)",
            f"{intake.cpu_percent:.0f}",
            f"{bare.cpu_percent:.0f}",
        ),
        row(
            f"p50 at half load, {half} (ms)",
            _ms(intake.half_load.p50_ms),
            _ms(bare.half_load.p50_ms),
        ),
        row(
            f"p99 at half load, {half} (ms)",
            _ms(intake.half_load.p99_ms),
            _ms(bare.half_load.p99_ms),
        ),
        row(
            "achieved rate at half load (req/s)",
            _rate(intake.half_load.achieved_rate),
            _rate(bare.half_load.achieved_rate),
        ),
        row(
            "non-2xx / errors (all phases measured)",
            f"{intake.max_load.non_2xx + intake.half_load.non_2xx} / "
            f"{intake.max_load.socket_errors + intake.half_load.errors}",
            f"{bare.max_load.non_2xx + bare.half_load.non_2xx} / "
            f"{bare.max_load.socket_errors + bare.half_load.errors}",
        ),
    ]
    p99 = intake.half_load.p99_ms
    ratio = result.throughput_ratio
    notes = [
        f"bar: intake/bare throughput >= {_percent(THROUGHPUT_BAR)}: "
        f"{_percent(ratio)}, {_verdict(ratio >= THROUGHPUT_BAR)}",
        f"bar: intake p99 at half load < {HALF_LOAD_P99_BAR_MS:g} ms: {_ms(p99)} ms, "
        f"{_verdict(p99 < HALF_LOAD_P99_BAR_MS)}",
        *[f"INVALID: {problem}" for problem in result.problems()],
    ]
    options = result.options
    return Table(
        title=(
            f"Intake POST /v1/calls vs bare FastAPI (wrk {options.threads} thread(s), "
            f"{options.connections} connections, {options.seconds:g} s after {options.warmup:g} s "
            f"warm-up; half load open loop)"
        ),
        header=["", "intake", "bare FastAPI", "intake / bare"],
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
) -> str:
    parts = [
        "# Benchmarks",
        "",
        f"Latest results of `{command}` (written by `python -m bench`; do not edit by hand). "
        "Each benchmark runs side by side with its baseline in the same run, on the same "
        "machine and broker, so the ratios matter more than the absolute numbers.",
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
        parts += ["", "## Intake `POST /v1/calls` vs a bare FastAPI endpoint", ""]
        parts += [intake_table(intake).markdown(), "", _intake_method(intake)]
    if producer is not None:
        parts += ["", "## Producer: `EventProducer` vs Kafka's `ProducerPerformance`", ""]
        parts += [producer_table(producer).markdown(), "", _producer_method(producer)]
    return "\n".join(parts) + "\n"


def _intake_method(result: IntakeResult) -> str:
    options = result.options
    return (
        "**What is compared.** Intake as it is deployed — `python -m intake`, i.e. the "
        "correlation middleware, the problem handlers, the operator-token dependency, "
        "validation of `CallCreate`, building the `call.received` event and "
        "`EventProducer.publish` waiting for the broker's acknowledgement (acks=all, "
        "idempotent) before it answers 202 with the log position — against "
        "`bench/bare_app.py`: FastAPI with the same route, the same `CallCreate` body, the "
        "same Bearer token check (one `async def` dependency, as intake's) and the same 202 "
        "`{call_id, position}` answer (a fresh uuid, "
        "a fake position), but no Kafka and no middleware. Both are one uvicorn process with "
        "uvloop and httptools and no access log, started as subprocesses on free ports and "
        "loaded only once they answer (`/readyz` for intake, `/livez` for the bare app). "
        "Intake writes into topics with a fresh `bench-<random>.` prefix, deleted afterwards. "
        f"**How.** Maximum load: wrk {options.threads} thread(s), {options.connections} "
        "keep-alive connections, POSTing the same valid JSON body with the token, "
        f"{options.warmup:g} s warm-up then {options.seconds:g} s measured; requests/s and "
        "p50/p99 come from wrk's `--latency` report (closed loop: at the maximum the latency "
        "is mostly queueing). Server CPU is read from `/proc` during the measured run. Half "
        "load: wrk cannot hold a rate, so `bench/openloop.py` (asyncio streams on uvloop, "
        f"{options.connections} keep-alive connections) sends at a fixed rate — half of "
        "intake's measured maximum, the same rate for both servers — for "
        f"{options.warmup:g} s warm-up then {options.seconds:g} s, and measures each latency "
        "from the request's scheduled send time, so requests that queue behind a slow one "
        "count (no coordinated omission). Any non-2xx answer or connection error makes the "
        "run invalid. Intake's broker round trip also costs CPU in the broker, which shares "
        "the cores with the server and wrk."
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
