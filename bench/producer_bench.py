"""Benchmark (b): our `EventProducer` against Kafka's own `ProducerPerformance` tool."""

from __future__ import annotations

import asyncio
import re
import resource
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import uvloop
from callcenter_events import Envelope
from callcenter_events.codec import encode
from callcenter_events.producer import EventProducer
from callcenter_events.testing import call_received
from callcenter_events.topics import CALLS

from bench.kafka import create_topic, record_count
from bench.servers import REPO_ROOT, BenchError

JAVA_TOOL = "org.apache.kafka.tools.ProducerPerformance"
_SUMMARY = re.compile(
    r"(?P<records>\d+) records sent, (?P<rate>[\d.]+) records/sec "
    r"\((?P<mb>[\d.]+) MB/sec\), (?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency"
    r"(?P<percentiles>(?:, [\d.]+ ms [\d.]+th)*)"
)
_PERCENTILE = re.compile(r"([\d.]+) ms ([\d.]+)th")


@dataclass(frozen=True, slots=True)
class ProducerOptions:
    bootstrap_servers: str
    topic_prefix: str
    records: int
    chunk: int
    window: int

    @property
    def ours_prefix(self) -> str:
        return f"{self.topic_prefix}ours."

    @property
    def java_prefix(self) -> str:
        return f"{self.topic_prefix}java."


@dataclass(frozen=True, slots=True)
class OursResult:
    topic: str
    records: int
    seconds: float
    cpu_seconds: float
    value_bytes: int
    key_bytes: int
    header_bytes: int
    stored: int  # records in the topic afterwards

    @property
    def events_per_s(self) -> float:
        return self.records / self.seconds

    @property
    def mb_per_s(self) -> float:
        """Value bytes per second in MiB, as ProducerPerformance counts them."""
        return self.events_per_s * self.value_bytes / 1024 / 1024


@dataclass(frozen=True, slots=True)
class JavaResult:
    topic: str
    records: int
    events_per_s: float
    mb_per_s: float
    avg_latency_ms: float
    max_latency_ms: float
    percentiles_ms: dict[str, float]
    cpu_seconds: float  # of the JVM, start-up and JIT included
    stored: int
    summary: str


@dataclass(frozen=True, slots=True)
class ProducerResult:
    options: ProducerOptions
    ours: OursResult
    java: JavaResult

    @property
    def ratio(self) -> float:
        return self.ours.events_per_s / self.java.events_per_s

    def problems(self) -> list[str]:
        return [
            f"{name}: {stored} records in {topic}, expected {self.options.records}"
            for name, topic, stored in (
                ("ours", self.ours.topic, self.ours.stored),
                ("java", self.java.topic, self.java.stored),
            )
            if stored != self.options.records
        ]


def run(options: ProducerOptions) -> ProducerResult:
    print(f"producer: building {options.records} call.received envelopes", flush=True)
    envelopes = [call_received(call_id=f"bench-{i:010d}") for i in range(options.records)]
    record = encode(envelopes[0])
    if record.value is None or len(record.value) != len(encode(envelopes[-1]).value or b""):
        raise BenchError("the envelopes do not all encode to the same size")
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        ours_topic = runner.run(create_topic(options.bootstrap_servers, options.ours_prefix, CALLS))
        java_topic = runner.run(create_topic(options.bootstrap_servers, options.java_prefix, CALLS))
        print(
            f"producer: EventProducer, {options.records} records into {ours_topic} "
            f"(publish_all of {options.chunk}, {options.window} in flight)",
            flush=True,
        )
        seconds, cpu = runner.run(_publish(options, envelopes))
        stored = runner.run(record_count(options.bootstrap_servers, ours_topic, CALLS.partitions))
        ours = OursResult(
            topic=ours_topic,
            records=options.records,
            seconds=seconds,
            cpu_seconds=cpu,
            value_bytes=len(record.value),
            key_bytes=len(record.key or b""),
            header_bytes=sum(len(name) + len(value) for name, value in record.headers),
            stored=stored,
        )
        del envelopes
        print(f"producer: {JAVA_TOOL}, {options.records} records into {java_topic}", flush=True)
        java = _java(options, java_topic, ours.value_bytes)
        java = replace(
            java,
            stored=runner.run(
                record_count(options.bootstrap_servers, java_topic, CALLS.partitions)
            ),
        )
    return ProducerResult(options=options, ours=ours, java=java)


def _chunks(envelopes: Sequence[Envelope], size: int) -> Iterator[Sequence[Envelope]]:
    for start in range(0, len(envelopes), size):
        yield envelopes[start : start + size]


async def _publish(options: ProducerOptions, envelopes: Sequence[Envelope]) -> tuple[float, float]:
    """Publish all envelopes, `window` chunks in flight; answers (wall seconds, CPU seconds)."""
    producer = EventProducer(
        options.bootstrap_servers, client_id="bench-producer", topic_prefix=options.ours_prefix
    )
    await producer.start()
    try:
        chunks = _chunks(envelopes, options.chunk)

        async def worker() -> int:
            published = 0
            for chunk in chunks:  # the workers share the iterator: a sliding window of chunks
                published += len(await producer.publish_all(chunk))
            return published

        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        published = sum(await asyncio.gather(*(worker() for _ in range(options.window))))
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu_before
    finally:
        await producer.stop()
    if published != len(envelopes):
        raise BenchError(f"published {published} of {len(envelopes)} envelopes")
    return seconds, cpu


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _java(options: ProducerOptions, topic: str, record_size: int) -> JavaResult:
    command = [
        str(REPO_ROOT / "deploy" / "kafka.sh"),
        "tool",
        JAVA_TOOL,
        "--topic",
        topic,
        "--num-records",
        str(options.records),
        "--record-size",
        str(record_size),
        "--throughput",
        "-1",
        "--producer-props",
        f"bootstrap.servers={options.bootstrap_servers}",
        "acks=all",
        "enable.idempotence=true",
    ]
    cpu_before = _children_cpu_seconds()
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    cpu = _children_cpu_seconds() - cpu_before
    if done.returncode != 0:
        raise BenchError(f"{JAVA_TOOL} failed ({done.returncode}):\n{done.stderr}{done.stdout}")
    return parse_summary(done.stdout, topic=topic, cpu_seconds=cpu)


def parse_summary(output: str, *, topic: str, cpu_seconds: float) -> JavaResult:
    """Read ProducerPerformance's final line (the last one that matches)."""
    matches = list(_SUMMARY.finditer(output))
    if not matches:
        raise BenchError(f"cannot find {JAVA_TOOL}'s summary line in:\n{output}")
    last = matches[-1]
    return JavaResult(
        topic=topic,
        records=int(last["records"]),
        events_per_s=float(last["rate"]),
        mb_per_s=float(last["mb"]),
        avg_latency_ms=float(last["avg"]),
        max_latency_ms=float(last["max"]),
        percentiles_ms={
            f"p{p.removesuffix('.0')}": float(ms)
            for ms, p in _PERCENTILE.findall(last["percentiles"])
        },
        cpu_seconds=cpu_seconds,
        stored=-1,
        summary=last.group(0),
    )
