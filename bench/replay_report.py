"""The "Analytics replay" section of docs/benchmarks.md: events/s against a bare consume."""

from __future__ import annotations

from bench.replay_bench import ReplayResult, Timed
from bench.report import Machine, Table, section_of

HEADING = "## Analytics replay: every projection from offset zero vs a bare consume"
BARS = {"SQLite": 50_000, "PostgreSQL": 30_000}


def table(result: ReplayResult) -> Table:
    rows = [
        _row("bare consume (aiokafka, no decoding): baseline", result.bare, result.bare),
        _row("bare consume + decoding into envelopes", result.decode, result.bare),
        _row("replay into SQLite", result.sqlite, result.bare, BARS["SQLite"]),
    ]
    if result.postgres is not None:
        rows.append(
            _row("replay into PostgreSQL", result.postgres, result.bare, BARS["PostgreSQL"])
        )
    notes = [
        f"{result.records:,} records in the log; projections: {', '.join(result.projections)}",
        "bars (PRODUCT.md): replay >= 50,000 events/s on SQLite, >= 30,000 on PostgreSQL, and at "
        "least half the rate of the bare consume",
    ]
    if result.postgres is None:
        notes.append("PostgreSQL: not measured (no server: set CALLCENTER_BENCH_POSTGRES_URL)")
    return Table(
        "Analytics replay",
        ["", "records", "seconds", "events/s", "of bare consume", "bar"],
        rows,
        notes,
    )


def _row(label: str, timed: Timed, bare: Timed, bar: int | None = None) -> list[str]:
    ratio = timed.per_s / bare.per_s if bare.per_s else 0.0
    verdict = "-"
    if bar is not None:
        met = timed.per_s >= bar and ratio >= 0.5
        verdict = f"{'met' if met else 'NOT met'} (>= {bar:,}/s, >= 50 %)"
    return [
        label,
        f"{timed.records:,}",
        f"{timed.seconds:.1f}",
        f"{timed.per_s:,.0f}",
        f"{ratio:.0%}",
        verdict,
    ]


def section(result: ReplayResult, separate_run: tuple[Machine, str] | None = None) -> str:
    return section_of(HEADING, table(result), METHOD, separate_run)


METHOD = (
    "**What is measured.** A generated history (`bench/history.py`: inbound calls with their "
    "whole lifecycle as intake and routing write it, agent status changes, one post-call survey "
    "answer in ten calls; ten tenants, 200 agents) is published once into fresh topics. The "
    "baseline reads every record of those topics from offset zero with a bare `AIOKafkaConsumer` "
    "(assigned partitions, no group, no decoding); the second row also reads each record into "
    "its CloudEvents envelope (`Reader`: headers, JSON, the event model, upcasting), which every "
    "consumer does before any projection code runs. The replays run the analytics service's own "
    "`ProjectionSupervisor` with every registered projection on an empty database (SQLite file "
    "in the run's temporary directory; a fresh database on the local PostgreSQL server), timed "
    "from start until every live build's stored positions reach the log's end. Each projection "
    "has its own consumer and reads only its own topics, in batches of up to 1,000 events, each "
    "batch written in one transaction with its positions (the tracking rule). Events/s is the "
    "log's records over the wall time, on the same machine, in the same run."
)
