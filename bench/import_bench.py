"""Benchmark (f): importing customers, `POST /v1/customers/import`, and the memory it takes.

For each list size (50,000, 100,000 and 200,000 customers) a CSV file is written to disk row by
row, a fresh surveys process (`python -m surveys`, SQLite) is started on fresh topics, and the
file is posted to it streamed from disk (httpx, chunked). Measured: rows/s from the first byte
sent to the report; the surveys process's CPU time; its RSS when ready and its peak (VmHWM)
after the import. Then, once surveys' projection shows the last customer, the same file is
posted again to the same process (every customer known, no consent changes): rows/s, and how
far VmRSS (sampled every 50 ms) rises above where it started, which is the import's own working
memory without the per-subject keys the first import adds to the vault.

Baselines, in the same run on the same file: the endpoint's parser alone (`parse_rows` and
`CustomerRow` validation, in this process, no HTTP, no Kafka), and the same sealed events,
built beforehand, published with `EventProducer.publish_all` (batches of 500, 4 in flight: the
import's shape) into fresh topics: what the broker alone costs for what the import writes.
"""

from __future__ import annotations

import asyncio
import gc
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from callcenter_events import Envelope
from callcenter_events.admin import ensure_topics
from callcenter_events.producer import EventProducer
from callcenter_events.topics import SURVEYS
from surveys.customer_events import CustomerWriter
from surveys.customer_import import BATCH_ROWS, BATCHES_IN_FLIGHT
from surveys.import_rows import CsvRows, GoodRow, parse_rows

from bench.kafka import publish_tenant, record_count
from bench.privacy_bench import new_vault
from bench.servers import (
    BenchError,
    Server,
    free_port,
    process_cpu_seconds,
    process_memory_mb,
    running_server,
)

TENANT = "bench"
TOKEN = "bench-operator-token"
CHUNK_BYTES = 64 * 1024
SAMPLE_S = 0.05
CATCH_UP_TIMEOUT_S = 1800.0
UPLOAD_TIMEOUT_S = 3600.0
HEADER = (
    "customer_ref,phone,language,timezone,name,segment.age_band,segment.region,"
    "segment.products,consent.marketing_calls,consent.source,consent.at\n"
)
LANGUAGES = (("de", "Europe/Berlin"), ("de-AT", "Europe/Vienna"), ("en", "Europe/London"))
AGE_BANDS = ("18-29", "30-39", "40-49", "50-59", "60+")
PRODUCTS = ("dsl", "dsl|tv", "fiber|tv|mobile", "mobile", "fiber")
CONSENT = ("yes,web-form,2026-03-01T10:00:00Z", "no,call,2026-03-02T11:30:00+01:00", ",,")


@dataclass(frozen=True, slots=True)
class ImportOptions:
    bootstrap_servers: str
    topic_prefix: str
    work_dir: Path
    sizes: tuple[int, ...] = (50_000, 100_000, 200_000)
    bad_every: int = 1000  # every n-th row has a number that is not E.164


@dataclass(frozen=True, slots=True)
class ListFile:
    path: Path
    rows: int
    good: int
    stated: int  # good rows with a consent statement
    size_bytes: int
    bad_every: int

    @property
    def events(self) -> int:
        """What a first import writes: every good customer, and each one's first statement."""
        return self.good + self.stated


@dataclass(frozen=True, slots=True)
class Upload:
    seconds: float
    cpu_seconds: float  # the surveys process's, during the upload
    rss_before_mb: float
    rss_peak_mb: float  # VmHWM after a first import; the highest VmRSS sampled during a re-import
    report: dict[str, Any]

    def rows_per_s(self) -> float:
        return int(self.report["rows"]) / self.seconds


@dataclass(frozen=True, slots=True)
class SizeResult:
    file: ListFile
    first: Upload
    again: Upload
    caught_up_s: float  # from the first answer until surveys' projection showed the last row
    stored: int  # records in the surveys topic after both imports
    parse_seconds: float
    publish_seconds: float

    def expected_records(self) -> int:
        """Both imports: the first's events, then every good customer again, no consent."""
        return self.file.events + self.file.good

    def problems(self) -> list[str]:
        found = []
        for name, upload in (("first", self.first), ("again", self.again)):
            report = upload.report
            if (report["accepted"], report["rejected"]) != (
                self.file.good,
                self.file.rows - self.file.good,
            ):
                found.append(f"{self.file.rows:,} rows, {name} import: {report}")
        if self.stored != self.expected_records():
            found.append(
                f"{self.file.rows:,} rows: {self.stored} records in the surveys topic, "
                f"expected {self.expected_records()}"
            )
        return found


@dataclass(frozen=True, slots=True)
class ImportResult:
    options: ImportOptions
    sizes: list[SizeResult]

    def problems(self) -> list[str]:
        return [problem for size in self.sizes for problem in size.problems()]


def run(options: ImportOptions) -> ImportResult:
    results = []
    for rows in options.sizes:
        listed = write_list(options.work_dir / f"customers-{rows}.csv", rows, options.bad_every)
        print(f"import: {rows:,} customers ({listed.size_bytes / 1e6:.1f} MB)", flush=True)
        results.append(_measure(options, listed))
        listed.path.unlink()
    return ImportResult(options, results)


def write_list(path: Path, rows: int, bad_every: int) -> ListFile:
    """A CSV list written row by row (never held): languages, segments and consent vary."""
    good = stated = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for n in range(1, rows + 1):
            bad = n % bad_every == 0
            consent = CONSENT[n % len(CONSENT)]
            good += not bad
            stated += not bad and not consent.startswith(",")
            out.write(_row(n, bad, consent))
    return ListFile(path, rows, good, stated, path.stat().st_size, bad_every)


def _row(n: int, bad: bool, consent: str) -> str:
    language, zone = LANGUAGES[n % len(LANGUAGES)]
    phone = f"030-{n:07d}" if bad else f"+49301{n:07d}"
    name = f"Customer {n}" if n % 2 else ""
    segment = f"{AGE_BANDS[n % 5]},region-{n % 16},{PRODUCTS[n % len(PRODUCTS)]}"
    return f"CUST-{n:07d},{phone},{language},{zone},{name},{segment},{consent}\n"


def _measure(options: ImportOptions, listed: ListFile) -> SizeResult:
    prefix = f"{options.topic_prefix}import{listed.rows}-{secrets.token_hex(2)}."
    asyncio.run(_prepare_topics(options.bootstrap_servers, prefix))
    with _surveys(options, prefix) as server:
        first = _upload(server, listed, sample=False)
        caught_up = _wait_for_projection(server, listed, first.report["position"])
        again = _upload(server, listed, sample=True)
    stored = asyncio.run(
        record_count(options.bootstrap_servers, SURVEYS.name(prefix), SURVEYS.partitions)
    )
    print(f"import: {listed.rows:,}: parse alone, then publish alone", flush=True)
    parse_seconds = asyncio.run(_parse_only(listed.path))
    publish_seconds = asyncio.run(_publish_only(options, listed))
    return SizeResult(listed, first, again, caught_up, stored, parse_seconds, publish_seconds)


async def _prepare_topics(bootstrap: str, prefix: str) -> None:
    await ensure_topics(bootstrap, prefix=prefix)
    await publish_tenant(bootstrap, prefix, TENANT)


@contextmanager
def _surveys(options: ImportOptions, prefix: str) -> Iterator[Server]:
    port = free_port()
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": options.bootstrap_servers,
        "CALLCENTER_TOPIC_PREFIX": prefix,
        "CALLCENTER_OPERATOR_TOKEN": TOKEN,
        "SURVEYS_PORT": str(port),
        "SURVEYS_DATABASE_URL": f"sqlite:///{options.work_dir / (prefix + 'surveys.sqlite3')}",
        "LOG_LEVEL": "WARNING",
    }
    with running_server(
        f"surveys-{prefix.rstrip('.')}",
        ["-m", "surveys"],
        port=port,
        ready_path="/readyz",
        env=env,
        log_dir=options.work_dir,
    ) as server:
        yield server


def _upload(server: Server, listed: ListFile, *, sample: bool) -> Upload:
    """POST the file, streamed from disk; the process's CPU and memory around it."""
    url = f"http://{server.host}:{server.port}/v1/customers/import"
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/csv"}
    rss_before = process_memory_mb(server.pid, "VmRSS")
    cpu_before = process_cpu_seconds(server.pid)
    with _rss_sampler(server.pid) as highest, httpx.Client(timeout=UPLOAD_TIMEOUT_S) as client:
        started = time.perf_counter()
        answer = client.post(
            url, params={"tenant_id": TENANT}, content=_chunks(listed.path), headers=headers
        )
        seconds = time.perf_counter() - started
    if answer.status_code != 200:
        raise BenchError(f"import of {listed.rows} rows: {answer.status_code} {answer.text[:500]}")
    peak = max(highest) if sample else process_memory_mb(server.pid, "VmHWM")
    cpu = process_cpu_seconds(server.pid) - cpu_before
    return Upload(seconds, cpu, rss_before, peak, answer.json())


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as listed:
        while chunk := listed.read(CHUNK_BYTES):
            yield chunk


@contextmanager
def _rss_sampler(pid: int) -> Iterator[list[float]]:
    """VmRSS of `pid` every `SAMPLE_S` while the block runs (a list that grows, then complete)."""
    samples = [process_memory_mb(pid, "VmRSS")]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_S):
            samples.append(process_memory_mb(pid, "VmRSS"))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield samples
    finally:
        done.set()
        sampler.join()
        samples.append(process_memory_mb(pid, "VmRSS"))


def _wait_for_projection(server: Server, listed: ListFile, position: str) -> float:
    """Seconds until GET shows the file's last good customer (read-your-writes, polled)."""
    last = next(n for n in range(listed.rows, 0, -1) if n % listed.bad_every)
    url = f"http://{server.host}:{server.port}/v1/customers/CUST-{last:07d}"
    params = {"tenant_id": TENANT, "min_position": position}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    started = time.perf_counter()
    with httpx.Client(timeout=30) as client:
        while client.get(url, params=params, headers=headers).status_code != 200:
            if time.perf_counter() - started > CATCH_UP_TIMEOUT_S:
                raise BenchError(f"surveys' projection did not show CUST-{last:07d}")
    return time.perf_counter() - started


async def _parse_only(path: Path) -> float:
    """The endpoint's parser and validation over the file, nothing else."""

    async def chunks() -> AsyncIterator[bytes]:
        for chunk in _chunks(path):
            yield chunk

    started = time.perf_counter()
    async for _row in parse_rows(chunks(), CsvRows()):
        pass
    return time.perf_counter() - started


async def _publish_only(options: ImportOptions, listed: ListFile) -> float:
    """The import's sealed events, built first, then published the import's way: the clock."""
    envelopes = await _sealed_events(listed.path)
    if len(envelopes) != listed.events:
        raise BenchError(f"built {len(envelopes)} events for {listed.rows} rows")
    prefix = f"{options.topic_prefix}publish{listed.rows}-{secrets.token_hex(2)}."
    await ensure_topics(options.bootstrap_servers, prefix=prefix, topics=[SURVEYS])
    producer = EventProducer(
        options.bootstrap_servers, client_id="bench-import", topic_prefix=prefix
    )
    await producer.start()
    try:
        gc.collect()
        gc.freeze()
        started = time.perf_counter()
        await _publish_windowed(producer, envelopes, listed)
        return time.perf_counter() - started
    finally:
        gc.unfreeze()
        await producer.stop()


async def _sealed_events(path: Path) -> list[Envelope]:
    """Every good row as `CustomerWriter` seals it for a new customer (keys in memory)."""
    writer = CustomerWriter(new_vault(), TENANT, "operator")

    async def chunks() -> AsyncIterator[bytes]:
        for chunk in _chunks(path):
            yield chunk

    envelopes: list[Envelope] = []
    async for row in parse_rows(chunks(), CsvRows()):
        if isinstance(row, GoodRow):
            ref = row.customer.customer_ref
            envelopes += await writer.customer(ref, row.customer, current_consent=None)
    return envelopes


async def _publish_windowed(
    producer: EventProducer, envelopes: list[Envelope], listed: ListFile
) -> None:
    """`publish_all` of the import's batches (500 rows' events), `BATCHES_IN_FLIGHT` at once."""
    per_batch = round(BATCH_ROWS * listed.events / listed.good)
    batches = iter(range(0, len(envelopes), per_batch))

    async def worker() -> None:
        for start in batches:
            await producer.publish_all(envelopes[start : start + per_batch])

    await asyncio.gather(*(worker() for _ in range(BATCHES_IN_FLIGHT)))
