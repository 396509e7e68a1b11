"""The "Restart and memory" section of docs/benchmarks.md: each service after a long history."""

from __future__ import annotations

from bench.report import Machine, Table, section_of
from bench.services_bench import RESTART_BAR_S, SERVICES, ServicesResult

HEADING = "## Restart and memory of each service after a long history"


def table(result: ServicesResult) -> Table:
    bare = result.bare_memory
    rows = [
        [
            name,
            f"{result.cold[name].ready_s:.1f}",
            f"{result.cold[name].caught_up_s or 0:.1f}",
            f"{result.restart[name].ready_s:.1f}",
            f"{result.restart[name].ready_s / result.bare_start_s:.1f}x",
            _verdict(result.restart[name].ready_s),
            f"{result.memory[name].idle_mb:.0f}",
            f"{result.memory[name].load_mb:.0f}",
        ]
        for name in SERVICES
    ]
    rows.append(
        [
            "bare FastAPI app: baseline",
            "-",
            "-",
            f"{result.bare_start_s:.1f}",
            "1.0x",
            "-",
            f"{bare.idle_mb:.0f}",
            f"{bare.load_mb:.0f}",
        ]
    )
    load, bare_load = result.load, result.bare_load
    notes = [
        f"history: ~{result.options.events:,} events published once (bench/history.py)",
        f"load: {result.options.rate:.0f} calls/s to intake for {result.options.seconds:g} s "
        f"(achieved {load.achieved_rate:.0f}/s, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} "
        f"ms, {load.non_2xx} non-2xx, {load.errors} errors); the bare app under the same load: "
        f"p99 {bare_load.p99_ms:.1f} ms",
        f"bar (PRODUCT.md): a restarted service is ready again within {RESTART_BAR_S:.0f} s",
    ]
    return Table(
        "Restart and memory",
        [
            "",
            "cold: ready (s)",
            "cold: caught up (s)",
            "restart: ready (s)",
            "restart / bare",
            "bar",
            "RSS idle (MB)",
            "RSS at load (MB)",
        ],
        rows,
        notes,
    )


def _verdict(seconds: float) -> str:
    return f"{'met' if seconds <= RESTART_BAR_S else 'NOT met'} (<= {RESTART_BAR_S:.0f} s)"


def section(result: ServicesResult, separate_run: tuple[Machine, str] | None = None) -> str:
    return section_of(HEADING, table(result), METHOD, separate_run)


METHOD = (
    "**What is measured.** The history of the replay benchmark (`bench/history.py`: call "
    "lifecycles as intake and routing write them, agent status changes, survey answers; ten "
    "tenants) is published once into fresh topics. *Cold*: each service (`python -m <service>`, "
    "SQLite databases in the run's temporary directory) is started alone on an empty database "
    "and timed from process start to `/readyz` answering 200, then on until every consumer "
    "group of the process reports no lag (`callcenter_consumer_lag` all zero on `/metrics`); "
    "then it is stopped with SIGTERM. *Restart*: each is started again, one after the other, on "
    "the database its cold start left, and timed from process start to `/readyz` 200; this is "
    "the bar. The baseline is `bench/bare_app.py` (FastAPI, one route, no Kafka, no database) "
    "from process start to `/livez` 200: what the interpreter, the imports and uvicorn cost "
    "before any state. *Memory*: with the four restarted services running and caught up, each "
    "process's RSS (`VmRSS` of `/proc/<pid>/status`) idle, then the highest RSS sampled every "
    "0.25 s while intake takes `POST /v1/calls` (operator token) at a steady rate from an open "
    "loop (`bench/openloop.py`), which routing, surveys and analytics then consume. The bare "
    "app is measured alone under the same rate."
)
