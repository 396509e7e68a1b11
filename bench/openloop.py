"""An open-loop HTTP load generator: requests at a fixed rate, latency from the scheduled time.

wrk keeps N requests in flight and sends the next one only when an answer arrives (closed
loop), so it cannot hold a fixed rate, and a stalled server makes it wait instead of counting
the requests that would have queued up ("coordinated omission"). Here request i is due at
`start + i / rate`, whatever happened before; it goes out on the next free keep-alive connection
and its latency runs from when it was due, so queueing in the client counts against the server.
Raw asyncio streams on uvloop keep the generator's own cost per request small.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass

import uvloop

from bench.servers import BenchError

DRAIN_TIMEOUT_S = 10.0
# In a request: replaced by a counter, a new number for every request sent (never in JSON text).
COUNTER = b"\x00counter\x00"


@dataclass(frozen=True, slots=True)
class OpenLoopResult:
    rate: float
    seconds: float
    latencies_ms: list[float]  # of the measured requests, sorted
    statuses: dict[int, int]
    errors: int
    unfinished: int

    @property
    def achieved_rate(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def percentile_ms(self, percent: float) -> float:
        """Nearest-rank percentile of the measured latencies."""
        if not self.latencies_ms:
            return float("nan")
        rank = max(1, -(-len(self.latencies_ms) * percent // 100))
        return self.latencies_ms[int(rank) - 1]

    @property
    def p50_ms(self) -> float:
        return self.percentile_ms(50)

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(99)

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)


def build_post(
    host: str, port: int, path: str, body: bytes, token: str, *, idempotency_prefix: str = ""
) -> bytes:
    """The request to send, or with `idempotency_prefix` its template: an `Idempotency-Key` of
    the prefix and the request's number (`COUNTER`), so that every request has a fresh key."""
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Length: {len(body)}\r\n"
    ).encode()
    if idempotency_prefix:
        head += f"Idempotency-Key: {idempotency_prefix}-".encode() + COUNTER + b"\r\n"
    return head + b"\r\n" + body


class _Run:
    def __init__(self, host: str, port: int, request: bytes, measure_from: float) -> None:
        self.host = host
        self.port = port
        self.parts = request.split(COUNTER)
        self.numbers = itertools.count(1)
        self.measure_from = measure_from
        self.due: asyncio.Queue[float | None] = asyncio.Queue()
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.errors = 0

    def next_request(self) -> bytes:
        if len(self.parts) == 1:
            return self.parts[0]
        return str(next(self.numbers)).encode().join(self.parts)

    async def connection(self) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            while (due := await self.due.get()) is not None:
                try:
                    writer.write(self.next_request())
                    status = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    if due >= self.measure_from:
                        self.errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(self.host, self.port)
                    continue
                if due >= self.measure_from:
                    self.latencies.append((time.perf_counter() - due) * 1000)
                    self.statuses[status] = self.statuses.get(status, 0) + 1
        finally:
            writer.close()


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"transfer-encoding":
            raise ValueError("chunked answers are not supported")
    if length:
        await reader.readexactly(length)
    return status


async def _open_loop(
    host: str,
    port: int,
    request: bytes,
    *,
    rate: float,
    seconds: float,
    warmup: float,
    connections: int,
) -> OpenLoopResult:
    start = time.perf_counter() + 0.2
    run = _Run(host, port, request, measure_from=start + warmup)
    workers = [asyncio.create_task(run.connection()) for _ in range(connections)]
    total = int(rate * (warmup + seconds))
    measured = 0
    for i in range(total):
        due = start + i / rate
        measured += due >= run.measure_from
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        run.due.put_nowait(due)
    for _ in workers:
        run.due.put_nowait(None)
    done, pending = await asyncio.wait(workers, timeout=DRAIN_TIMEOUT_S)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await task
    for task in done:
        if task.exception() is not None:
            raise BenchError(f"the open-loop load generator failed: {task.exception()!r}")
    unfinished = max(0, measured - len(run.latencies) - run.errors)
    return OpenLoopResult(
        rate=rate,
        seconds=seconds,
        latencies_ms=sorted(run.latencies),
        statuses=run.statuses,
        errors=run.errors,
        unfinished=unfinished,
    )


def run_open_loop(
    host: str,
    port: int,
    request: bytes,
    *,
    rate: float,
    seconds: float,
    warmup: float,
    connections: int,
) -> OpenLoopResult:
    """Send `request` (from `build_post`) at `rate` per second; the last `seconds` count."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(
            _open_loop(
                host,
                port,
                request,
                rate=rate,
                seconds=seconds,
                warmup=warmup,
                connections=connections,
            )
        )
