"""`python -m bench`: run the benchmarks, print the table, write docs/benchmarks.md.

`--only privacy` merges its section into the existing docs/benchmarks.md and keeps the rest;
the other runs write the whole file.
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
from pathlib import Path

import structlog

from bench import intake_bench, privacy_bench, producer_bench, report
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
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--duration", type=float, help="seconds per measured load phase")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up before each phase")
    parser.add_argument("--records", type=int, help="events the producer benchmark writes")
    parser.add_argument(
        "--only", choices=["intake", "producer", "privacy"], help="run one benchmark"
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
    intake: intake_bench.IntakeResult | None = None
    producer: producer_bench.ProducerResult | None = None
    privacy: privacy_bench.PrivacyResult | None = None
    try:
        check_broker(bootstrap)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    try:
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
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    finally:
        _clean_up(bootstrap, prefix)

    tables = [
        *([report.intake_table(intake)] if intake else []),
        *([report.producer_table(producer)] if producer else []),
        *([report.privacy_table(privacy)] if privacy else []),
    ]
    print()
    print("\n\n".join(table.text() for table in tables))
    command = command_line(given)
    if privacy is not None and args.only == "privacy" and DOCS.exists():
        section = report.privacy_section(privacy, separate_run=(machine, command))
        DOCS.write_text(report.merge_section(DOCS.read_text(), section))
        print(f"\nupdated: {DOCS.relative_to(REPO_ROOT)} ({report.PRIVACY_HEADING[3:]})")
    else:
        DOCS.write_text(report.markdown_document(machine, command, intake, producer, privacy))
        print(f"\nwritten: {DOCS.relative_to(REPO_ROOT)}")
    problems = [
        *(intake.problems() if intake else []),
        *(producer.problems() if producer else []),
        *(privacy.problems() if privacy else []),
    ]
    return 1 if problems else 0


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
