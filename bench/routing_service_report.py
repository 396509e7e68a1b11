"""The "Routing service" section of docs/benchmarks.md: latency through the broker, memory,
restart to ready."""

from __future__ import annotations

from bench.report import Machine, Table, section_of
from bench.routing_bench import Latency
from bench.routing_service_bench import RoutingServiceResult

HEADING = "## Routing service: received -> offered through Kafka, memory, restart"


def table(result: RoutingServiceResult) -> Table:
    options = result.options
    ours, relay = result.ours, result.relay
    rows = [
        [
            f"call received -> offer recorded at {options.rate:.0f} calls/s, "
            "p50 / p90 / p99 / max (ms)",
            _latency(ours),
            _latency(relay),
            f"{_ratio(ours.p50_ms, relay.p50_ms)} / {_ratio(ours.p99_ms, relay.p99_ms)}",
        ],
        [
            "calls sent / answered (offered; relayed)",
            f"{result.sent:,} / {result.offered:,}",
            f"{result.sent:,} / {result.relayed:,}",
            "",
        ],
        [
            f"routing RSS: {options.agents:,} agents idle / after the load (MB)",
            f"{result.rss_idle_mb:.0f} / {result.rss_loaded_mb:.0f}",
            "",
            "",
        ],
        [
            f"ready after a restart on {result.facts:,} facts (s): with its snapshot / "
            "without (the whole fold)",
            f"{result.with_snapshot.seconds:.1f}",
            f"{result.without_snapshot.seconds:.1f}",
            _ratio(result.with_snapshot.seconds, result.without_snapshot.seconds),
        ],
        [
            "first start on those facts (its decisions projection reads them too) (s)",
            f"{result.cold.seconds:.1f}",
            "",
            "",
        ],
        [
            "routing RSS after start: with snapshot / without / first start (MB)",
            f"{result.with_snapshot.rss_mb:.0f}",
            f"{result.without_snapshot.rss_mb:.0f} / {result.cold.rss_mb:.0f}",
            "",
        ],
    ]
    notes = [
        f"Bars: p50 <= 10 ms and p99 <= 50 ms at 500 calls/s; ready within 10 s after "
        f"1,000,000 events. The snapshot stored {result.snapshot_kb:,.0f} KB (zlib); the "
        f"{result.facts:,} facts took {result.facts_written_s:.0f} s to generate and write.",
        *(f"NOT MET: {problem}" for problem in result.problems()),
    ]
    return Table(
        "Routing service",
        ["measure", "routing", "baseline (bare relay; full fold)", "ratio"],
        rows,
        notes,
    )


def section(result: RoutingServiceResult, separate_run: tuple[Machine, str] | None = None) -> str:
    return section_of(HEADING, table(result), _method(result), separate_run)


def _method(result: RoutingServiceResult) -> str:
    options = result.options
    return (
        "**What is compared.** Routing as deployed (`python -m routing`, SQLite for its "
        f"decisions and snapshots) with {options.agents:,} agents registered through its API "
        f"(two of five languages and four of ten topics each, capacity {options.capacity}, "
        "offers never answered so that every call finds a free qualified agent). The load "
        "generator writes `call.received` events at a steady rate (open loop) straight to the "
        "calls topic; routing consumes them, decides, and writes `call.queued` and "
        "`call.offered`. The calls and routing topics stamp records with the broker's append "
        "time, so a call's latency is its offer's append time minus its own: recorded in Kafka "
        "at both ends, in whole milliseconds. The first "
        f"{options.warmup:.0f} s are warm-up; {options.seconds:.0f} s are measured. The "
        "baseline is `bench.bare_relay`, a process that consumes the same kind of topic with "
        "the same fetch settings and writes one small record per call (idempotent, acks=all), "
        "measured the same way at the same rate: what any service between a call and its "
        "offer has to pay. Restart: facts of a busy day (agents; calls queued, offered, "
        "accepted, ended, wrapped up; open offers, conversations and waiting calls at the "
        "end) are written to the fact topics; routing is started on them and timed from "
        "process start to `/readyz` answering 200 (interpreter start, topic check, tenant "
        "directory, the owner election, snapshot and fold, the calls consumer's group join). "
        "First start: no snapshot and no projection yet; then a restart with the snapshot "
        "the first start took; then a restart with that snapshot deleted."
    )


def _latency(value: Latency) -> str:
    cells = (value.p50_ms, value.p90_ms, value.p99_ms, value.max_ms)
    return " / ".join(f"{cell:.0f}" for cell in cells)


def _ratio(ours: float, baseline: float) -> str:
    return f"{ours / baseline:.2f}x" if baseline else ""
