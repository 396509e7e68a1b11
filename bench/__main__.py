"""`python -m bench`: run the benchmarks, print the table, write docs/benchmarks.md.

`--only privacy`, `--only routing`, `--only routing-service`, `--only import`, `--only replay`
and `--only services`
merge their section into the existing docs/benchmarks.md and keep the rest; the other runs write
the whole file. The replay benchmark measures PostgreSQL on the server named by
`CALLCENTER_BENCH_POSTGRES_URL` (`make bench` starts the local one and sets it).
`--only routing` needs no Kafka.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import socket
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

from bench import (
    import_bench,
    import_report,
    intake_bench,
    plots,
    privacy_bench,
    producer_bench,
    replay_bench,
    replay_report,
    report,
    routing_bench,
    routing_service_bench,
    routing_service_report,
    services_bench,
    services_report,
)
from bench.kafka import delete_topics
from bench.servers import REPO_ROOT, BenchError

DOCS = REPO_ROOT / "docs" / "benchmarks.md"
DEFAULTS = {
    "duration": 10.0,
    "warmup": 3.0,
    "records": 200_000,
    "only": None,
    "threads": 1,
    "connections": 32,
    "chunk": 1000,
    "window": 4,
    "privacy_events": 50_000,
    "callers": 10_000,
    "routing_decisions": 120,
    "routing_enqueues": 50,
    "routing_facts": 1_000_000,
    "routing_rate": 500.0,
    "import_sizes": "50000,100000,200000",
    "replay_events": 1_000_000,
    "services_events": 1_000_000,
    "services_rate": 100.0,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--duration", type=float, help="seconds per measured load phase")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up before each phase")
    parser.add_argument("--records", type=int, help="events the producer benchmark writes")
    parser.add_argument(
        "--only",
        choices=[
            "intake",
            "producer",
            "privacy",
            "routing",
            "routing-service",
            "import",
            "replay",
            "services",
        ],
        help="run one benchmark",
    )
    parser.add_argument("--threads", type=int, help="wrk threads")
    parser.add_argument("--connections", type=int, help="HTTP connections (wrk and open loop)")
    parser.add_argument("--chunk", type=int, help="envelopes per publish_all (producer, privacy)")
    parser.add_argument(
        "--window", type=int, help="publish_all chunks in flight (producer, privacy)"
    )
    parser.add_argument(
        "--privacy-events",
        type=int,
        help="events the privacy benchmark publishes each way, seals alone and replays",
    )
    parser.add_argument(
        "--callers", type=int, help="distinct callers of the privacy benchmark's events"
    )
    parser.add_argument(
        "--routing-decisions", type=int, help="decisions (wrap_up) the routing benchmark times"
    )
    parser.add_argument(
        "--routing-enqueues",
        type=int,
        help="enqueues with free agents the routing benchmark times",
    )
    parser.add_argument("--routing-facts", type=int, help="facts the routing service restarts on")
    parser.add_argument(
        "--routing-rate", type=float, help="calls per second the routing service is offered"
    )
    parser.add_argument(
        "--import-sizes", help="customers per list the import benchmark posts (comma separated)"
    )
    parser.add_argument("--replay-events", type=int, help="events in the history analytics replays")
    parser.add_argument(
        "--services-events", type=int, help="events in the history the services restart on"
    )
    parser.add_argument(
        "--services-rate", type=float, help="calls per second while memory is sampled at load"
    )
    parser.set_defaults(**DEFAULTS)
    return parser.parse_args(argv)


def command_line(argv: Sequence[str]) -> str:
    """`make bench` for the default run, else the exact arguments given."""
    return "make bench" if not argv else " ".join(["python -m bench", *argv])


def check_broker(bootstrap_servers: str) -> None:
    host, _, port = bootstrap_servers.split(",", maxsplit=1)[0].rpartition(":")
    try:
        socket.create_connection((host or "localhost", int(port)), timeout=5).close()
    except OSError as exc:
        raise BenchError(
            f"no Kafka broker at {bootstrap_servers} ({exc}); start one with `deploy/kafka.sh up` "
            "(or run `make bench`, which does)"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(given)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")
    prefix = f"bench-{secrets.token_hex(4)}."
    machine = report.machine()
    kafka = args.only != "routing"
    try:
        if kafka:
            check_broker(bootstrap)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    try:
        results = _run(args, bootstrap, prefix)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    finally:
        if kafka:
            _clean_up(bootstrap, prefix)
    print()
    print("\n\n".join(table.text() for table in results.tables()))
    _write_docs(args.only, machine, command_line(given), results)
    _write_plots(results)
    return 1 if results.problems() else 0


def _run(args: argparse.Namespace, bootstrap: str, prefix: str) -> Results:
    """The benchmarks `args` ask for, one after the other."""
    intake: intake_bench.IntakeResult | None = None
    producer: producer_bench.ProducerResult | None = None
    privacy: privacy_bench.PrivacyResult | None = None
    routing: routing_bench.RoutingResult | None = None
    service: routing_service_bench.RoutingServiceResult | None = None
    imported: import_bench.ImportResult | None = None
    replayed: replay_bench.ReplayResult | None = None
    services: services_bench.ServicesResult | None = None
    with tempfile.TemporaryDirectory(prefix="callcenter-bench-") as tmp:
        if args.only in (None, "intake"):
            intake = intake_bench.run(
                intake_bench.IntakeOptions(
                    bootstrap_servers=bootstrap,
                    topic_prefix=prefix,
                    seconds=args.duration,
                    warmup=args.warmup,
                    threads=args.threads,
                    connections=args.connections,
                    work_dir=Path(tmp),
                )
            )
        if args.only in (None, "producer"):
            producer = producer_bench.run(
                producer_bench.ProducerOptions(
                    bootstrap_servers=bootstrap,
                    topic_prefix=prefix,
                    records=args.records,
                    chunk=args.chunk,
                    window=args.window,
                )
            )
        if args.only in (None, "privacy"):
            privacy = privacy_bench.run(
                privacy_bench.PrivacyOptions(
                    bootstrap_servers=bootstrap,
                    topic_prefix=prefix,
                    events=args.privacy_events,
                    callers=args.callers,
                    chunk=args.chunk,
                    window=args.window,
                )
            )
        if args.only in (None, "routing-service"):
            service = routing_service_bench.run(
                routing_service_bench.RoutingServiceOptions(
                    bootstrap_servers=bootstrap,
                    topic_prefix=prefix,
                    work_dir=Path(tmp),
                    rate=args.routing_rate,
                    seconds=args.duration * 2,
                    warmup=args.warmup,
                    facts=args.routing_facts,
                )
            )
        if args.only in (None, "import"):
            imported = import_bench.run(
                import_bench.ImportOptions(
                    bootstrap_servers=bootstrap,
                    topic_prefix=prefix,
                    work_dir=Path(tmp),
                    sizes=tuple(int(size) for size in args.import_sizes.split(",")),
                )
            )
        if args.only in (None, "replay"):
            replayed = replay_bench.run(
                replay_bench.ReplayOptions(
                    bootstrap_servers=bootstrap,
                    topic_prefix=prefix,
                    work_dir=Path(tmp),
                    events=args.replay_events,
                    postgres_url=os.environ.get("CALLCENTER_BENCH_POSTGRES_URL") or None,
                )
            )
        if args.only in (None, "services"):
            services = services_bench.run(
                services_bench.ServicesOptions(
                    bootstrap_servers=bootstrap,
                    topic_prefix=prefix,
                    work_dir=Path(tmp),
                    events=args.services_events,
                    rate=args.services_rate,
                    seconds=args.duration,
                    warmup=args.warmup,
                    connections=args.connections,
                )
            )
    if args.only in (None, "routing"):
        routing = routing_bench.run(
            routing_bench.RoutingOptions(
                decisions=args.routing_decisions, enqueues=args.routing_enqueues
            )
        )
    return Results(intake, producer, privacy, routing, service, imported, replayed, services)


@dataclass(frozen=True, slots=True)
class Results:
    intake: intake_bench.IntakeResult | None
    producer: producer_bench.ProducerResult | None
    privacy: privacy_bench.PrivacyResult | None
    routing: routing_bench.RoutingResult | None
    service: routing_service_bench.RoutingServiceResult | None
    imported: import_bench.ImportResult | None
    replayed: replay_bench.ReplayResult | None
    services: services_bench.ServicesResult | None

    def tables(self) -> list[report.Table]:
        return [
            *([report.intake_table(self.intake)] if self.intake else []),
            *([report.producer_table(self.producer)] if self.producer else []),
            *([report.privacy_table(self.privacy)] if self.privacy else []),
            *(report.routing_tables(self.routing) if self.routing else []),
            *([routing_service_report.table(self.service)] if self.service else []),
            *([import_report.table(self.imported)] if self.imported else []),
            *([replay_report.table(self.replayed)] if self.replayed else []),
            *([services_report.table(self.services)] if self.services else []),
        ]

    def charts(self) -> list[plots.Chart]:
        charts = []
        if self.intake:
            runs = [self.intake.intake, self.intake.keyed, self.intake.bare]
            labels = ["intake, operator token", "intake, API key", "bare FastAPI: baseline"]
            lines = [
                plots.Distribution(label, run.half_load.latencies_ms)
                for label, run in zip(labels, runs, strict=True)
            ]
            title = "Intake POST /v1/calls at half load (open loop)"
            charts.append(plots.Chart("benchmarks-intake.png", title, "latency (ms)", lines))
        if self.service:
            lines = [
                plots.Distribution("routing", self.service.ours.samples_ms),
                plots.Distribution("bare relay: baseline", self.service.relay.samples_ms),
            ]
            title = f"Call received -> offer recorded, {self.service.options.rate:.0f} calls/s"
            charts.append(plots.Chart("benchmarks-routing-service.png", title, "ms", lines))
        if self.routing:
            r = self.routing
            lines = [
                plots.Distribution("engine: wrap_up decision", r.decision.samples_ms),
                plots.Distribution("naive scan: wrap_up decision", r.naive_decision.samples_ms),
                plots.Distribution("engine: enqueue", r.enqueue.samples_ms),
                plots.Distribution("naive scan: enqueue", r.naive_enqueue.samples_ms),
            ]
            title = "Routing engine, 10,000 agents and 10,000 waiting calls"
            charts.append(plots.Chart("benchmarks-routing-engine.png", title, "ms", lines))
        return charts

    def problems(self) -> list[str]:
        results = (
            self.intake,
            self.producer,
            self.privacy,
            self.routing,
            self.service,
            self.imported,
            self.replayed,
            self.services,
        )
        return [problem for result in results if result for problem in result.problems()]

    def sections(self, separate_run: tuple[report.Machine, str] | None) -> list[str]:
        """The sections that merge into the document (not part of its first page)."""
        return [
            *([routing_service_report.section(self.service, separate_run)] if self.service else []),
            *([import_report.section(self.imported, separate_run)] if self.imported else []),
            *([replay_report.section(self.replayed, separate_run)] if self.replayed else []),
            *([services_report.section(self.services, separate_run)] if self.services else []),
        ]


def _write_docs(only: str | None, machine: report.Machine, command: str, r: Results) -> None:
    """The whole document, or with `--only NAME` that benchmark's section merged into it."""
    separate_run = (machine, command)
    sections: list[str] = []
    if r.intake is not None and only == "intake":
        sections = [report.intake_section(r.intake, separate_run=separate_run)]
    elif r.producer is not None and only == "producer":
        sections = [report.producer_section(r.producer, separate_run=separate_run)]
    elif r.privacy is not None and only == "privacy":
        sections = [report.privacy_section(r.privacy, separate_run=separate_run)]
    elif r.routing is not None and only == "routing":
        sections = [report.routing_section(r.routing, separate_run=separate_run)]
    elif only in ("routing-service", "import", "replay", "services"):
        sections = r.sections(separate_run)
    if sections and DOCS.exists():
        DOCS.write_text(report.merge_section(DOCS.read_text(), sections[0]))
        heading = sections[0].split("\n", 1)[0]
        print(f"\nupdated: {DOCS.relative_to(REPO_ROOT)} ({heading.removeprefix('## ')})")
        return
    document = report.markdown_document(
        machine, command, r.intake, r.producer, r.privacy, r.routing
    )
    for section in r.sections(None):
        document = report.merge_section(document, section)
    DOCS.write_text(document)
    print(f"\nwritten: {DOCS.relative_to(REPO_ROOT)}")


def _write_plots(results: Results) -> None:
    """The latency distributions of this run as PNG files, and the section that shows every
    chart in docs/ (the charts of benchmarks not run this time stay as they were)."""
    for path in plots.write(results.charts(), DOCS.parent):
        print(f"written: {path.relative_to(REPO_ROOT)}")
    images = sorted(DOCS.parent.glob("benchmarks-*.png"))
    if images:
        lines = [plots.HEADING, "", plots.INTRO, ""]
        lines += [f"![{image.stem}]({image.name})" for image in images]
        DOCS.write_text(report.merge_section(DOCS.read_text(), "\n".join(lines)))


def _clean_up(bootstrap: str, prefix: str) -> None:
    try:
        deleted = asyncio.run(delete_topics(bootstrap, prefix))
    except Exception as exc:
        print(f"bench: could not delete the topics {prefix}*: {exc!r}", file=sys.stderr)
        return
    if deleted:
        print(f"deleted {len(deleted)} benchmark topics ({prefix}*)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
