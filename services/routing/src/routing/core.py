"""The owner of the routing engine: runs each command at the wall clock and records its facts.

Commands (requests, consumed call events, timers) run one after the other on the event loop,
each to its end without awaiting, so the engine needs no lock. Their effects become facts,
numbered in that order and handed to the producer in that order; a command's answer waits
until its facts are acknowledged. If a write fails, memory and log may disagree: the core
turns stale (503) and is rebuilt from the log, which is the truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import structlog
from callcenter_events import Envelope, Position, wrap
from callcenter_events.handling import correlation_id
from callcenter_events.store import in_db_thread
from prometheus_client import Counter, Gauge

from routing.domain import decisions as fx
from routing.domain import snapshot
from routing.domain.engine import Engine, UnknownOfferError
from routing.facts import effect_of, event_of
from routing.metrics import observe_offers
from routing.replay import FactReader, FactStream
from routing.snapshots import Snapshot, SnapshotStore, encode_state

log = structlog.get_logger(__name__)
SOURCE = "/callcenter/routing"
Command = Callable[[Engine, float], list[fx.Effect]]
Recorded = list[tuple[fx.Effect, Position]]
REMEMBERED = 100_000
REBUILD_RETRY_S = 1.0
FOLD_SLICE = 2000  # facts folded between two turns of the event loop
SNAPSHOT_FORMAT = 1
V = TypeVar("V")

FACTS = Counter("callcenter_routing_facts_total", "Facts routing recorded", ["kind"])
WAITING = Gauge("callcenter_routing_waiting_calls", "Calls waiting for an agent")
SNAPSHOT_SEQ = Gauge("callcenter_routing_snapshot_seq", "The fact number of the last snapshot")
RESTORED = Gauge("callcenter_routing_restore_seconds", "Duration of the last rebuild from the log")


@dataclass(frozen=True, slots=True)
class Order:
    """A command to run, with the flow it belongs to and the event that caused it (if any)."""

    command: Command
    correlation_id: str
    cause: str | None = None


class FactWriter(Protocol):
    """Where facts go: the Kafka producer (or the in-memory bus of the unit tests)."""

    async def enqueue_all(self, envelopes: Sequence[Envelope]) -> list[asyncio.Future[Any]]: ...

    async def acknowledged(
        self, deliveries: Sequence[asyncio.Future[Any]], envelopes: Sequence[Envelope]
    ) -> list[Position]: ...

    async def flush(self) -> None: ...


class StaleStateError(RuntimeError):
    """Routing's memory may differ from the log until it is rebuilt: retry shortly."""


def wall_clock() -> float:
    """Unix time in whole microseconds: what a fact's timestamp can carry exactly."""
    return time.time_ns() // 1000 / 1_000_000


class RoutingCore:
    def __init__(
        self,
        producer: FactWriter,
        reader: FactReader,
        *,
        heartbeat_timeout_s: float,
        snapshots: SnapshotStore | None = None,
        snapshot_every_facts: int = 20_000,
        snapshot_check_s: float = 10.0,
        clock: Callable[[], float] = wall_clock,
    ) -> None:
        self._snapshots = snapshots
        self._snapshot_every = snapshot_every_facts
        self._snapshot_check_s = snapshot_check_s
        self._snapshot_seq = 0
        self._failed_from = sys.maxsize  # the first fact number whose write failed
        self._producer = producer
        self._reader = reader
        self._heartbeat_timeout_s = heartbeat_timeout_s
        self._clock = clock
        self.engine = Engine(heartbeat_timeout_s=heartbeat_timeout_s)
        self._live = asyncio.Event()  # set while neither stale nor paused
        self._stale = True
        self._paused = False
        self.standby = True
        self._seq = 0
        self._send_lock = asyncio.Lock()
        self._wakeup = asyncio.Event()
        self.closed_offers: OrderedDict[str, str] = OrderedDict()
        self.finished_calls: OrderedDict[str, None] = OrderedDict()

    # -- commands -----------------------------------------------------------------------------

    async def execute(
        self, command: Command, *, correlation_id: str, cause: str | None = None
    ) -> Recorded:
        """Run one command now; answer its facts' positions (after the broker acknowledged)."""
        return await self.execute_all([Order(command, correlation_id, cause)])

    async def execute_all(self, orders: Sequence[Order]) -> Recorded:
        """Run the commands one after the other now; their facts go out together."""
        if self.stale or self.paused:
            raise StaleStateError(self.unavailable_because())
        now = self._clock()
        effects: list[fx.Effect] = []
        envelopes: list[Envelope] = []
        refused: UnknownOfferError | None = None
        for order in orders:
            flow = correlation_id.set(order.correlation_id)  # its log lines carry its flow
            try:
                made = order.command(self.engine, now)
            except UnknownOfferError as exc:  # what fell due meanwhile happened all the same
                made, refused = exc.effects, exc
            finally:
                correlation_id.reset(flow)
            observe_offers(made, self.engine, order.correlation_id)
            effects += made
            envelopes += [self._envelope(e, order.correlation_id, order.cause) for e in made]
        recorded = await self._record(effects, envelopes)
        if refused is not None:
            raise refused
        return recorded

    async def _record(
        self, effects: Sequence[fx.Effect], envelopes: Sequence[Envelope]
    ) -> Recorded:
        self._remember(effects)
        WAITING.set(len(self.engine.calls))
        self._wakeup.set()
        if not envelopes:
            return []
        try:
            async with self._send_lock:  # FIFO: handed over in fact order
                deliveries = await self._producer.enqueue_all(envelopes)
            positions = await self._producer.acknowledged(deliveries, envelopes)
        except Exception as exc:
            self.stale = True
            first = min(envelope.data.seq for envelope in envelopes)  # type: ignore[attr-defined]
            self._failed_from = min(self._failed_from, first)
            log.error("routing_facts_not_written", error=repr(exc), facts=len(envelopes))
            raise StaleStateError("a routing fact could not be written") from exc
        return list(zip(effects, positions, strict=True))

    def _envelope(self, effect: fx.Effect, correlation_id: str, cause: str | None) -> Envelope:
        self._seq += 1
        event = event_of(effect, self._seq)
        _counter_of(event.event_type).inc()
        return wrap(event, source=SOURCE, correlation_id=correlation_id, causation_id=cause)

    def _remember(self, effects: Iterable[fx.Effect]) -> None:
        """Recently closed offers (to say why an answer came too late) and finished calls."""
        for effect in effects:
            if isinstance(effect, fx.OfferEnded):
                _bounded_put(self.closed_offers, effect.offer.offer_id, effect.outcome)
            elif isinstance(effect, fx.CallRemoved):
                _bounded_put(self.finished_calls, effect.call_id, None)
            elif isinstance(effect, fx.AgentChanged) and effect.change == "wrapped_up":
                _bounded_put(self.finished_calls, str(effect.call_id), None)

    @property
    def stale(self) -> bool:
        """The memory may not match the log (rebuilding, standing by, a write failed)."""
        return self._stale

    @stale.setter
    def stale(self, value: bool) -> None:
        self._stale = value
        self._update_live()

    @property
    def paused(self) -> bool:
        """The owner group is rebalancing: hold still, the state is kept."""
        return self._paused

    def _update_live(self) -> None:
        if self._stale or self._paused:
            self._live.clear()
        else:
            self._live.set()

    async def until_live(self) -> None:
        """Wait while the state is rebuilt or a rebalance pauses it (the calls consumer does)."""
        await self._live.wait()

    def unavailable_because(self) -> str:
        if self.standby:
            return "this instance stands by: another one owns routing"
        if self.paused:
            return "routing's owner group is rebalancing"
        return "routing is rebuilding its state from the log"

    def pause(self, *, paused: bool) -> None:
        """Take no command and fire no timer while paused (the state is kept)."""
        self._paused = paused
        self._update_live()
        self._wakeup.set()

    # -- rebuilding from the log ----------------------------------------------------------------

    async def rebuild(self) -> None:
        """The latest snapshot (if any), then every later fact folded on top; then resume."""
        self.stale = True
        if self.standby:
            raise StaleStateError(self.unavailable_because())
        began = time.monotonic()
        taken = await self._latest_snapshot()
        if taken is not None:
            ends = await self._reader.end_offsets()
            if any(ends.get(tp, 0) < offset for tp, offset in taken.positions.items()):
                log.warning("routing_snapshot_ahead_of_log_ignored", seq=taken.seq)
                taken = None
        async with self._reader.stream(taken.positions if taken else None) as facts:
            engine, folded = await self._fold(taken, facts)
        if self.standby:  # deposed while reading: another instance owns routing now
            raise StaleStateError(self.unavailable_because())
        self.engine = engine
        self.stale = False
        gc.freeze()  # the rebuilt state lives on: later collections need not scan it
        RESTORED.set(time.monotonic() - began)
        log.info(
            "routing_rebuilt",
            snapshot_seq=taken.seq if taken else None,
            facts_folded=folded,
            records_read=facts.records,
            seconds=round(time.monotonic() - began, 3),
        )
        await self.execute(lambda e, now: e.resume(now), correlation_id="routing-resume")
        if folded >= self._snapshot_every:
            await self.take_snapshot()

    async def _fold(self, taken: Snapshot | None, facts: FactStream) -> tuple[Engine, int]:
        """A new engine from the snapshot and the facts after it; answers how many it folded.

        It hands the event loop back every few thousand facts: a long fold must not starve
        the heartbeats that keep this instance in its consumer groups.
        """
        self.closed_offers.clear()
        self.finished_calls.clear()
        if taken is None:
            engine, after = Engine(heartbeat_timeout_s=self._heartbeat_timeout_s), 0
        else:
            engine = snapshot.load(
                taken.state["engine"], heartbeat_timeout_s=self._heartbeat_timeout_s
            )
            self.closed_offers.update(taken.state["closed_offers"])
            self.finished_calls.update(dict.fromkeys(taken.state["finished_calls"]))
            after = taken.seq
        folded, last = 0, after
        async for fact in facts:
            seq: int = fact.seq  # type: ignore[attr-defined]
            if seq <= after:
                continue  # written while the snapshot was taken: already in it
            effect = effect_of(fact)
            engine.restore(effect)
            self._remember([effect])
            folded, last = folded + 1, max(last, seq)
            if folded % FOLD_SLICE == 0:
                await asyncio.sleep(0)
        self._seq = last
        self._snapshot_seq = after
        return engine, folded

    async def _latest_snapshot(self) -> Snapshot | None:
        if self._snapshots is None:
            return None
        try:
            taken = await in_db_thread(self._snapshots.engine, self._snapshots.latest)
        except Exception as exc:  # unreadable: the log alone will do
            log.warning("routing_snapshot_unreadable", error=repr(exc))
            return None
        if taken is None or self._failed_from <= taken.seq:
            return None  # none, or it may hold facts that never reached the log
        readable = taken.state.get("format") == SNAPSHOT_FORMAT
        if not readable or taken.state["engine"].get("format") != snapshot.FORMAT:
            return None
        return taken

    async def take_snapshot(self) -> None:
        """The state now, and the log's ends read just before it: every fact at an offset
        below them is in the state; facts after them with a number above `seq` are not."""
        if self._snapshots is None or self.stale:
            return
        ends = await self._reader.end_offsets()
        if self.stale:
            return
        seq = self._seq
        state = {
            "format": SNAPSHOT_FORMAT,
            "engine": snapshot.dump(self.engine),
            "closed_offers": dict(self.closed_offers),
            "finished_calls": list(self.finished_calls),
        }
        encoded = encode_state(state)
        await self._producer.flush()  # every fact in the state acknowledged, or failed:
        await asyncio.sleep(0)
        if self._failed_from <= seq:  # then the state may hold what the log does not
            return
        size = await in_db_thread(self._snapshots.engine, self._snapshots.save, seq, ends, encoded)
        self._snapshot_seq = seq
        SNAPSHOT_SEQ.set(seq)
        log.info("routing_snapshot_taken", seq=seq, bytes=size)

    async def snapshot_now_and_then(self) -> None:
        """Every few seconds: a snapshot if enough facts were recorded since the last one."""
        while True:
            await asyncio.sleep(self._snapshot_check_s)
            if self._seq - self._snapshot_seq >= self._snapshot_every and not self.paused:
                try:
                    await self.take_snapshot()
                except Exception as exc:
                    log.warning("routing_snapshot_failed", error=repr(exc))

    # -- timers ---------------------------------------------------------------------------------

    async def run_timers(self) -> None:
        """Fire what falls due (offer timeouts, escalations, wrap-up limits, heartbeats)."""
        while not self.standby:
            deadline = self.engine.next_deadline()
            delay = None if deadline is None else max(0.0, deadline - self._clock())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wakeup.wait()
            self._wakeup.clear()
            try:
                await self._tick()
            except StaleStateError:
                await asyncio.sleep(REBUILD_RETRY_S)
            except Exception:
                log.exception("routing_timer_failed")
                await asyncio.sleep(REBUILD_RETRY_S)

    async def _tick(self) -> None:
        if self.paused or self.standby:
            return
        if self.stale:
            await self.rebuild()
            return
        deadline = self.engine.next_deadline()
        if deadline is not None and deadline <= self._clock():
            await self.execute(lambda e, now: e.advance(now), correlation_id="routing-timer")


@functools.cache
def _counter_of(event_type: str) -> Any:
    """The fact counter of one type (looking labels up per fact costs more than the count)."""
    return FACTS.labels(event_type)


def _bounded_put(remembered: OrderedDict[str, V], key: str, value: V) -> None:
    remembered[key] = value
    remembered.move_to_end(key)
    if len(remembered) > REMEMBERED:
        remembered.popitem(last=False)
