"""The "Customer import" section of docs/benchmarks.md: rows/s and memory by list size."""

from __future__ import annotations

from collections.abc import Callable

from surveys.customer_import import BATCH_ROWS, BATCHES_IN_FLIGHT

from bench.import_bench import ImportResult, SizeResult
from bench.report import Machine, Table, section_of

HEADING = "## Customer import: `POST /v1/customers/import`, rows/s and memory"


def table(result: ImportResult) -> Table:
    def row(label: str, cell: Callable[[SizeResult], str]) -> list[str]:
        return [label, *(cell(size) for size in result.sizes)]

    rows = [
        row("CSV file (MB)", lambda s: f"{s.file.size_bytes / 1e6:.1f}"),
        row("import, rows/s (every customer new)", lambda s: _rate(s.first.rows_per_s())),
        row(
            "import, wall / surveys CPU (s)",
            lambda s: f"{s.first.seconds:.1f} / {s.first.cpu_seconds:.1f}",
        ),
        row(
            "surveys RSS: ready / peak (VmHWM) after the import (MB)",
            lambda s: f"{s.first.rss_before_mb:.0f} / {s.first.rss_peak_mb:.0f}",
        ),
        row("peak - ready, per 1,000 customers (MB)", lambda s: f"{_per_thousand(s):.2f}"),
        row("import again, rows/s (every customer known)", lambda s: _rate(s.again.rows_per_s())),
        row(
            "import again: VmRSS before / highest sampled (MB)",
            lambda s: f"{s.again.rss_before_mb:.0f} / {s.again.rss_peak_mb:.0f}",
        ),
        row("the last customer readable, s after the answer", lambda s: f"{s.caught_up_s:.0f}"),
        row(
            "baseline: parse + validate alone, rows/s",
            lambda s: _rate(s.file.rows / s.parse_seconds),
        ),
        row(
            "baseline: publish alone (EventProducer), rows/s",
            lambda s: _rate(s.file.rows / s.publish_seconds),
        ),
        row("import / publish alone", lambda s: f"{s.publish_seconds / s.first.seconds:.0%}"),
        row(
            "rows accepted / rejected (each import)",
            lambda s: f"{s.first.report['accepted']:,} / {s.first.report['rejected']:,}",
        ),
        row(
            "records in the surveys topic (expected)",
            lambda s: f"{s.stored:,} ({s.expected_records():,})",
        ),
    ]
    growth = ", ".join(f"{s.again.rss_peak_mb - s.again.rss_before_mb:.0f}" for s in result.sizes)
    notes = [
        f"the import's own working memory (import again: highest VmRSS - before): {growth} MB "
        "for the sizes above; beyond it, the first import adds the caches of the new customers' "
        "subject keys, which are bounded (the keys themselves are in an on-disk index)",
        *(f"INVALID: {problem}" for problem in result.problems()),
    ]
    return Table(
        "Customer import",
        ["", *(f"{size.file.rows:,} customers" for size in result.sizes)],
        rows,
        notes,
    )


def section(result: ImportResult, separate_run: tuple[Machine, str] | None = None) -> str:
    return section_of(HEADING, table(result), _method(result), separate_run)


def _method(result: ImportResult) -> str:
    largest = result.sizes[-1]
    return (
        "**What is measured.** Surveys as deployed (`python -m surveys`, SQLite, every component: "
        "the customer, survey and campaign projections read the events the import writes, in the "
        "same process) importing a CSV list as one tenant, with the operator's token. The files "
        "are written row by row into the run's temporary directory: customers with a number, a "
        "name on every other row, three languages and time zones, an age band, a region and "
        "products (`dsl|tv`), consent given on a third of the rows and withdrawn on a third; "
        "every 1000th row has a number that is not E.164 and is reported, not written. Each size "
        "gets a fresh surveys process on fresh topics; the file is posted streamed from disk "
        "(httpx, 64 KB chunks, chunked transfer) and timed from the first byte sent to the report "
        f"(batches of {BATCH_ROWS:,} rows, {BATCHES_IN_FLIGHT} in flight, acks=all). A new "
        "customer costs two subject keys (customer and number), each written to the key topic "
        "and acknowledged before anything is sealed under it, and one or two sealed events. "
        "CPU is the surveys process's (`/proc/<pid>/stat`), memory its `VmRSS` when ready and "
        "`VmHWM` after the answer. Then surveys' own read of the last customer is polled "
        "(`GET` with `min_position`) until it shows, and the same file is posted again to the "
        "same process: every customer known, no consent changes (so no consent event: the "
        "records in the topic show it), `VmRSS` sampled every 50 ms. **Baselines**, run after "
        "each size on the same file: the endpoint's own parser and validation alone "
        "(`parse_rows`, in the benchmark process, no HTTP, no Kafka); and the same sealed events "
        "(`CustomerWriter`, keys in memory), built before the clock starts and published with "
        "`EventProducer.publish_all` in the import's batches and window into a fresh topic: what "
        "the broker alone takes for the events the import writes (not its key records). "
        "**Memory**: every instance indexes the subject keys in a SQLite file on disk (an "
        "8 MB page cache, the last 10,000 records and up to 20,000 unwrapped keys of 32 B in "
        f"memory), so a service that met {2 * largest.file.good:,} new subjects holds no more "
        "than that; the import itself keeps one batch "
        "being sealed, the batches in flight, the first 1000 errors and the last 20,000 "
        "references' consent, whatever the file's length."
    )


def _per_thousand(size: SizeResult) -> float:
    return 1000 * (size.first.rss_peak_mb - size.first.rss_before_mb) / size.file.rows


def _rate(value: float) -> str:
    return f"{value:,.0f}"
