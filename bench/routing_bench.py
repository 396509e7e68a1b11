"""Benchmark (d): the routing engine's decision latency at the product's scale, no Kafka.

10,000 agents over 200 skills, every one of them busy, and 10,000 calls waiting in thousands of
distinct queues: freeing an agent (`wrap_up`) makes the engine decide which waiting call it
gets, and enqueueing a call while some agents are free makes it decide which agent gets the
call. Each decision is timed on its own. The baseline is a naive matcher written here (a list
of waiting calls in priority and arrival order, scanned from the head) replaying the same
operations on the same data. Memory is the process's RSS around the setup and the engine's
state under tracemalloc; a cProfile of some more decisions shows where the time goes.
"""

from __future__ import annotations

import bisect
import contextlib
import cProfile
import gc
import math
import pstats
import random
import resource
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from routing.domain.decisions import Effect, OfferMade
from routing.domain.engine import CallRequest, Engine
from routing.domain.model import Presence, Requirements, WaitingCall
from routing.domain.requirements import requirements_of

from bench.servers import BenchError

SEED = 20260302
TICK_S = 1e-4  # the simulated clock moves this much per command: no timer comes due in a run
TENANTS = tuple(f"t{i:02d}" for i in range(20))
LANGUAGES = ("de", "en", "fr", "es", "it", "nl", "pl", "tr", "pt", "sv")
INBOUND_TOPICS = tuple(f"inbound-{i:03d}" for i in range(160))
CAMPAIGN_TOPICS = tuple(f"campaign-{i:02d}" for i in range(10))
CAMPAIGN_EVERY = 20  # every 20th agent works outbound campaigns only
PRIORITIES = (0, 1, 2)
PRIORITY_WEIGHTS = (6, 3, 1)
CHECKPOINTS = (1_000, 2_500, 5_000, 10_000)  # waiting calls at which a bare matching pass is timed
PROFILE_ROWS = 14


@dataclass(frozen=True, slots=True)
class RoutingOptions:
    agents: int = 10_000
    waiting: int = 10_000
    decisions: int = 120  # timed wrap-ups (each a decision over every waiting call)
    enqueues: int = 50  # timed enqueues with free agents
    free_agents: int = 50  # campaign agents freed for the enqueue measurement
    profiled: int = 10  # more wrap-ups, under cProfile (not in the latencies)
    samples: int = 10  # end_call and accept timed with their matching pass


@dataclass(frozen=True, slots=True)
class Latency:
    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    samples_ms: tuple[float, ...] = field(default=(), repr=False)  # sorted, for the plots

    @classmethod
    def of(cls, samples_ns: Sequence[int]) -> Latency:
        if not samples_ns:
            raise BenchError("no latency samples")
        ordered = sorted(samples_ns)

        def rank(p: float) -> float:  # nearest rank
            return ordered[max(0, math.ceil(p * len(ordered)) - 1)] / 1e6

        return cls(
            count=len(ordered),
            p50_ms=rank(0.50),
            p90_ms=rank(0.90),
            p99_ms=rank(0.99),
            max_ms=ordered[-1] / 1e6,
            mean_ms=sum(ordered) / len(ordered) / 1e6,
            samples_ms=tuple(sample / 1e6 for sample in ordered),
        )


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A matching pass (`advance`, no agent free) timed at some number of waiting calls."""

    waiting: int
    queues: int
    ms: float  # median of three


@dataclass(frozen=True, slots=True)
class ProfileRow:
    function: str
    calls: float  # per decision
    own_ms: float  # per decision
    cumulative_ms: float  # per decision


@dataclass(frozen=True, slots=True)
class Memory:
    rss_before_mb: float
    rss_engine_mb: float  # after the engine's setup
    rss_baseline_mb: float  # after the baseline's setup too
    max_rss_mb: float  # at the end of the run
    engine_traced_mb: float  # allocated by a second, identical engine setup and still held
    traced_seconds: float  # that setup's wall time under tracemalloc


@dataclass(frozen=True, slots=True)
class RoutingResult:
    options: RoutingOptions
    skills: int
    queues: int  # distinct non-empty queues when the decisions start
    setup_seconds: float
    decision: Latency
    decision_offers: int
    enqueue: Latency
    enqueue_offers: int
    naive_decision: Latency
    naive_decision_offers: int
    naive_enqueue: Latency
    naive_enqueue_offers: int
    same_decisions: int  # of decision + enqueue steps where the baseline chose as the engine did
    end_call: Latency
    accept: Latency
    checkpoints: tuple[Checkpoint, ...]
    memory: Memory
    profile: tuple[ProfileRow, ...]
    profile_queues: int
    late_offers: int  # offers a full matching pass found after a skipped one (must be 0)

    @property
    def steps(self) -> int:
        return self.decision.count + self.enqueue.count

    def problems(self) -> list[str]:
        found = []
        if self.late_offers:
            found.append(
                f"a matching pass made {self.late_offers} offers after the bench had skipped "
                "one: the skipped passes were not idle"
            )
        if self.same_decisions != self.steps:
            found.append(
                f"the baseline chose differently from the engine in "
                f"{self.steps - self.same_decisions} of {self.steps} decisions"
            )
        return found


# -- the data -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Profile:
    """An agent: the skills, and the call kinds it can take (tenant, language, topic)."""

    agent_id: str
    tenants: tuple[str, ...]
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    skills: Mapping[str, int]
    campaign: bool


def _distinct(
    draw: random.Random, items: Sequence[str], weights: Sequence[float], k: int
) -> tuple[str, ...]:
    chosen: list[str] = []
    while len(chosen) < k:
        item = draw.choices(items, weights)[0]
        if item not in chosen:
            chosen.append(item)
    return tuple(chosen)


def profiles(count: int, draw: random.Random) -> list[Profile]:
    """Tenants uniform; languages and topics skewed (weights 1/rank and 1/sqrt(rank))."""
    language_weights = [1 / (rank + 1) for rank in range(len(LANGUAGES))]
    topic_weights = [1 / math.sqrt(rank + 1) for rank in range(len(INBOUND_TOPICS))]
    campaign_weights = [1.0] * len(CAMPAIGN_TOPICS)
    found = []
    for index in range(count):
        campaign = index % CAMPAIGN_EVERY == CAMPAIGN_EVERY - 1
        tenants = tuple(draw.sample(TENANTS, draw.randint(1, 2)))
        languages = _distinct(draw, LANGUAGES, language_weights, draw.randint(1, 2))
        if campaign:
            topics = _distinct(draw, CAMPAIGN_TOPICS, campaign_weights, draw.randint(2, 3))
        else:
            topics = _distinct(draw, INBOUND_TOPICS, topic_weights, draw.randint(3, 6))
        skills = {
            **{f"tenant:{tenant}": draw.randint(1, 10) for tenant in tenants},
            **{f"lang:{language}": draw.randint(1, 10) for language in languages},
            **{f"topic:{topic}": draw.randint(1, 10) for topic in topics},
        }
        found.append(Profile(f"agent-{index:05d}", tenants, languages, topics, skills, campaign))
    return found


class Calls:
    """Call requests drawn from agents' profiles, so at least one agent qualifies for each."""

    def __init__(self, draw: random.Random) -> None:
        self.draw = draw
        self.counts: dict[str, int] = {}

    def of(self, profile: Profile, prefix: str, priority: int | None = None) -> CallRequest:
        draw = self.draw
        tenant = draw.choice(profile.tenants)
        count = self.counts[prefix] = self.counts.get(prefix, 0) + 1
        return CallRequest(
            call_id=f"{prefix}-{count:06d}",
            tenant_id=tenant,
            priority=(
                draw.choices(PRIORITIES, PRIORITY_WEIGHTS)[0] if priority is None else priority
            ),
            requirements=requirements_of(
                tenant, draw.choice(profile.languages), draw.choice(profile.topics), {}
            ),
        )


def queue_key(request: CallRequest) -> tuple[str, int, frozenset[tuple[str, int]]]:
    """The engine's queue of a call: tenant, priority and requirements."""
    return (request.tenant_id, request.priority, frozenset(request.requirements.items()))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def tick(self) -> float:
        self.now += TICK_S
        return self.now


# -- the baseline ---------------------------------------------------------------------------


class NaiveRouter:
    """The baseline: waiting calls in one list in priority then arrival order.

    A freed agent scans the list from the head and takes the first call whose requirements it
    meets; a new call scans the free agents and takes the longest idle one that meets them.
    The offer is the assignment (no offer state, no accept), and nothing explains a decision.
    """

    def __init__(self) -> None:
        self.skills: dict[str, Mapping[str, int]] = {}
        self.idle_since: dict[str, float] = {}
        self.free: set[str] = set()
        self.waiting: list[tuple[int, int, str, Requirements]] = []
        self.agent_of_call: dict[str, str] = {}
        self.seq = 0

    def add_agent(self, agent_id: str, skills: Mapping[str, int], now: float) -> None:
        self.skills[agent_id] = dict(skills)
        self.idle_since[agent_id] = now
        self.free.add(agent_id)

    def assign(self, call_id: str, agent_id: str) -> None:
        self.free.discard(agent_id)
        self.agent_of_call[call_id] = agent_id

    def enqueue(self, request: CallRequest, now: float) -> str | None:
        """The agent who gets the call, or None: it waits."""
        requirements = request.requirements
        best: tuple[float, str] | None = None
        for agent_id in self.free:
            skills = self.skills[agent_id]
            if all(skills.get(skill, 0) >= level for skill, level in requirements.items()):
                key = (self.idle_since[agent_id], agent_id)
                if best is None or key < best:
                    best = key
        if best is not None:
            self.assign(request.call_id, best[1])
            return best[1]
        self.seq += 1
        entry = (-request.priority, self.seq, request.call_id, dict(requirements))
        bisect.insort(self.waiting, entry)
        return None

    def wrap_up(self, call_id: str, now: float) -> str | None:
        """The agent of `call_id` is free: the call it gets next, or None."""
        agent_id = self.agent_of_call.pop(call_id)
        skills = self.skills[agent_id]
        for index, (_, _, waiting_id, requirements) in enumerate(self.waiting):
            if all(skills.get(skill, 0) >= level for skill, level in requirements.items()):
                del self.waiting[index]
                self.agent_of_call[waiting_id] = agent_id
                return waiting_id
        self.idle_since[agent_id] = now
        self.free.add(agent_id)
        return None


# -- the run --------------------------------------------------------------------------------


@dataclass(slots=True)
class Script:
    """What the engine was asked, in order, for the baseline to replay, and what it chose."""

    agents: list[Profile]
    busy: list[tuple[CallRequest, str]] = field(default_factory=list)  # call, agent
    waiting: list[CallRequest] = field(default_factory=list)
    # the freed agent's call, the call the agent got next (or None), the call enqueued then
    decisions: list[tuple[str, str | None, CallRequest]] = field(default_factory=list)
    profiled: list[tuple[str, str | None, CallRequest]] = field(default_factory=list)  # same
    freed: list[str] = field(default_factory=list)  # calls wrapped up to free campaign agents
    # the call enqueued (timed), the agent who got it (or None)
    enqueues: list[tuple[CallRequest, str | None]] = field(default_factory=list)


@dataclass(slots=True)
class Samples:
    decisions: list[int] = field(default_factory=list)
    end_calls: list[int] = field(default_factory=list)
    accepts: list[int] = field(default_factory=list)
    enqueues: list[int] = field(default_factory=list)


@contextlib.contextmanager
def _matching_skipped(engine: Engine) -> Iterator[None]:
    """The engine's commands without their closing matching pass (`Engine._match`).

    Used only where no agent is free, or where the free agents qualify for no waiting call:
    there the pass tries every queue's head and offers nothing, so skipping it leaves the same
    state. The pass costs as much as a decision, and the setup alone would otherwise run
    10,000 of them over ever more queues. Checked: a full pass at the end must offer nothing.
    """
    engine.__dict__["_match"] = _no_offers
    try:
        yield
    finally:
        del engine.__dict__["_match"]
        engine._candidate_queues()  # drop the skipped passes' pending work: none was a match


@contextlib.contextmanager
def _matching_restored(engine: Engine) -> Iterator[None]:
    skipped = engine.__dict__.pop("_match")
    try:
        yield
    finally:
        engine.__dict__["_match"] = skipped


def _no_offers(now: float) -> list[Effect]:
    return []


def _offers(effects: Sequence[Effect]) -> list[OfferMade]:
    return [effect for effect in effects if isinstance(effect, OfferMade)]


def _timed(command: Callable[[], list[Effect]]) -> tuple[int, list[Effect]]:
    started = time.perf_counter_ns()
    effects = command()
    return time.perf_counter_ns() - started, effects


class Drive:
    """The engine under test, its clock, and which agent is busy with which call."""

    def __init__(self, agents: Sequence[Profile], calls: Calls) -> None:
        self.engine = Engine()
        self.clock = Clock()
        self.calls = calls
        self.script = Script(agents=list(agents))
        self.busy: dict[str, str] = {}  # agent -> connected call
        self.inbound = [profile.agent_id for profile in agents if not profile.campaign]
        self.campaign = [profile.agent_id for profile in agents if profile.campaign]
        self.profile_of = {profile.agent_id: profile for profile in agents}
        self.pick = random.Random(f"{SEED}-pick")
        self.free: list[str] = []  # campaign agents freed for the enqueues
        self.checkpoint_seconds = 0.0

    def setup(self, waiting: Sequence[CallRequest], checkpoints: list[Checkpoint] | None) -> None:
        """Agents available, then each busy with a call of its own kind, then the waiting calls."""
        engine, clock = self.engine, self.clock
        for profile in self.script.agents:
            engine.upsert_agent(profile.agent_id, profile.agent_id, profile.skills, 1, clock.tick())
            engine.set_presence(profile.agent_id, Presence.AVAILABLE, clock.tick())
        for profile in self.script.agents:
            if profile.agent_id in self.busy:
                continue
            request = self.calls.of(profile, "busy", priority=0)
            offers = _offers(engine.enqueue(request, clock.tick()))
            if len(offers) != 1:
                raise BenchError(f"{request.call_id}: {len(offers)} offers, expected one")
            engine.accept(offers[0].offer.offer_id, clock.tick())
            self.busy[offers[0].offer.agent_id] = request.call_id
            self.script.busy.append((request, offers[0].offer.agent_id))
        if len(self.busy) != len(self.script.agents):
            raise BenchError(f"{len(self.busy)} of {len(self.script.agents)} agents busy")
        with _matching_skipped(engine):
            for count, request in enumerate(waiting, start=1):
                engine.enqueue(request, clock.tick())
                self.script.waiting.append(request)
                if checkpoints is not None and count in CHECKPOINTS:
                    started = time.perf_counter()
                    with _matching_restored(engine):
                        checkpoints.append(self._checkpoint(waiting[:count]))
                    self.checkpoint_seconds += time.perf_counter() - started

    def _checkpoint(self, waiting: Sequence[CallRequest]) -> Checkpoint:
        times = []
        for _ in range(3):
            elapsed, effects = _timed(lambda: self.engine.advance(self.clock.tick()))
            if _offers(effects):
                raise BenchError("a matching pass offered a call while every agent was busy")
            times.append(elapsed)
        queues = len({queue_key(request) for request in waiting})
        return Checkpoint(len(waiting), queues, sorted(times)[1] / 1e6)

    def decision(
        self, samples: Samples | None, *, full: bool, profiler: cProfile.Profile | None = None
    ) -> None:
        """Free a random busy inbound agent: end_call, then wrap_up (the decision, timed).

        Then accept the offer and enqueue one more waiting call, so every agent stays busy and
        10,000 calls wait. `full`: end_call and accept are timed too, with their matching pass.
        """
        engine, clock = self.engine, self.clock
        agent_id = self.pick.choice(self.inbound)
        call_id = self.busy[agent_id]
        if full and samples is not None:
            elapsed, _ = _timed(lambda: engine.end_call(call_id, clock.tick()))
            samples.end_calls.append(elapsed)
        else:
            with _matching_skipped(engine):
                engine.end_call(call_id, clock.tick())
        now = clock.tick()
        if profiler is not None:
            profiler.enable()
        elapsed, effects = _timed(lambda: engine.wrap_up(call_id, now))
        if profiler is not None:
            profiler.disable()
        if samples is not None:
            samples.decisions.append(elapsed)
        offers = _offers(effects)
        got = offers[0].offer.call_id if offers else None
        if offers:
            follow_up = self.calls.of(self.profile_of[self.pick.choice(self.inbound)], "call")
        else:  # it qualifies for no waiting call: one of its own kind, which it gets at once
            follow_up = self.calls.of(self.profile_of[agent_id], "call")
            offers = _offers(engine.enqueue(follow_up, clock.tick()))
        if len(offers) != 1 or offers[0].offer.agent_id != agent_id:
            raise BenchError(f"{agent_id} freed: expected one offer to it, got {offers}")
        offer = offers[0].offer
        if full and samples is not None:
            elapsed, _ = _timed(lambda: engine.accept(offer.offer_id, clock.tick()))
            samples.accepts.append(elapsed)
        else:
            with _matching_skipped(engine):
                engine.accept(offer.offer_id, clock.tick())
        self.busy[agent_id] = offer.call_id
        if got is not None:
            with _matching_skipped(engine):
                engine.enqueue(follow_up, clock.tick())
        steps = self.script.decisions if profiler is None else self.script.profiled
        steps.append((call_id, got, follow_up))

    def free_campaign_agents(self, count: int) -> None:
        """Campaign agents qualify for no waiting (inbound) call: freed, they stay free."""
        self.free = self.pick.sample(self.campaign, count)
        with _matching_skipped(self.engine):
            for agent_id in self.free:
                call_id = self.busy.pop(agent_id)
                self.engine.end_call(call_id, self.clock.tick())
                self.engine.wrap_up(call_id, self.clock.tick())
                self.script.freed.append(call_id)

    def enqueue(self, samples: Samples) -> None:
        """A campaign call while campaign agents are free (timed); its agent is freed again."""
        engine, clock = self.engine, self.clock
        request = self.calls.of(self.profile_of[self.pick.choice(self.free)], "campaign")
        now = clock.tick()
        elapsed, effects = _timed(lambda: engine.enqueue(request, now))
        samples.enqueues.append(elapsed)
        offers = _offers(effects)
        if len(offers) != 1:
            raise BenchError(f"{request.call_id}: {len(offers)} offers, expected one")
        self.script.enqueues.append((request, offers[0].offer.agent_id))
        with _matching_skipped(engine):
            engine.accept(offers[0].offer.offer_id, clock.tick())
            engine.end_call(request.call_id, clock.tick())
            engine.wrap_up(request.call_id, clock.tick())


def run(options: RoutingOptions) -> RoutingResult:
    try:
        return _run(options)
    finally:
        gc.unfreeze()


def _run(options: RoutingOptions) -> RoutingResult:
    if not 0 < options.samples <= options.decisions:
        raise BenchError("the end_call/accept samples must be among the decisions")
    draw = random.Random(SEED)
    agents = profiles(options.agents, draw)
    inbound = [profile for profile in agents if not profile.campaign]
    if len(agents) - len(inbound) < options.free_agents:
        raise BenchError(f"fewer campaign agents than the {options.free_agents} to free")
    calls = Calls(random.Random(f"{SEED}-calls"))
    waiting = [calls.of(draw.choice(inbound), "call") for _ in range(options.waiting)]
    gc.collect()
    gc.freeze()  # the inputs: the collector need not scan them again
    rss_before = _rss_mb()
    skills = len({skill for profile in agents for skill in profile.skills})
    queues = len({queue_key(request) for request in waiting})
    print(
        f"routing: {len(agents)} agents over {skills} skills, all busy, then {len(waiting)} "
        f"waiting calls in {queues} queues",
        flush=True,
    )
    drive = Drive(agents, calls)
    checkpoints: list[Checkpoint] = []
    started = time.perf_counter()
    drive.setup(waiting, checkpoints)
    setup_seconds = time.perf_counter() - started - drive.checkpoint_seconds
    gc.collect()
    rss_engine = _rss_mb()
    samples, rows, profile_queues, late = _measure(drive, options)

    print("routing: the baseline replays the same operations", flush=True)
    naive = _naive_setup(drive.script)
    gc.collect()
    rss_baseline = _rss_mb()
    naive_samples, same, naive_offers = _replay(naive, drive.script)
    script = drive.script
    del naive, drive
    traced_mb, traced_seconds = _traced_setup(agents, waiting)
    return RoutingResult(
        options=options,
        skills=skills,
        queues=queues,
        setup_seconds=setup_seconds,
        decision=Latency.of(samples.decisions),
        decision_offers=sum(1 for _, got, _ in script.decisions if got is not None),
        enqueue=Latency.of(samples.enqueues),
        enqueue_offers=sum(1 for _, agent_id in script.enqueues if agent_id is not None),
        naive_decision=Latency.of(naive_samples.decisions),
        naive_decision_offers=naive_offers[0],
        naive_enqueue=Latency.of(naive_samples.enqueues),
        naive_enqueue_offers=naive_offers[1],
        same_decisions=same,
        end_call=Latency.of(samples.end_calls),
        accept=Latency.of(samples.accepts),
        checkpoints=tuple(checkpoints),
        memory=Memory(
            rss_before_mb=rss_before,
            rss_engine_mb=rss_engine,
            rss_baseline_mb=rss_baseline,
            max_rss_mb=_max_rss_mb(),
            engine_traced_mb=traced_mb,
            traced_seconds=traced_seconds,
        ),
        profile=tuple(rows),
        profile_queues=profile_queues,
        late_offers=late,
    )


def _measure(drive: Drive, options: RoutingOptions) -> tuple[Samples, list[ProfileRow], int, int]:
    """Decisions, more of them under cProfile, then enqueues with free agents; a final check.

    Answers the timings, the profile, the queues while profiling, and the offers a full
    matching pass still finds at the end (must be none).
    """
    print(f"routing: {options.decisions} decisions (wrap_up after end_call)", flush=True)
    samples = Samples()
    gc.collect()
    for step in range(options.decisions):
        drive.decision(samples, full=step < options.samples)
    print(f"routing: {options.profiled} more decisions under cProfile", flush=True)
    profile_queues = len({queue_key(_request(call)) for call in drive.engine.waiting()})
    profiler = cProfile.Profile()
    for _ in range(options.profiled):
        drive.decision(None, full=False, profiler=profiler)
    print(
        f"routing: {options.enqueues} enqueues with {options.free_agents} agents free", flush=True
    )
    drive.free_campaign_agents(options.free_agents)
    gc.collect()
    for _ in range(options.enqueues):
        drive.enqueue(samples)
    late = len(_offers(drive.engine.advance(drive.clock.tick())))
    return samples, _profile_rows(profiler, options.profiled), profile_queues, late


def _traced_setup(agents: Sequence[Profile], waiting: Sequence[CallRequest]) -> tuple[float, float]:
    """The engine's setup again under tracemalloc: MB allocated and still held, and seconds."""
    print("routing: the engine's setup again, under tracemalloc", flush=True)
    gc.collect()
    tracemalloc.start()
    traced_from = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    drive = Drive(agents, Calls(random.Random(f"{SEED}-calls")))
    drive.setup(waiting, None)
    seconds = time.perf_counter() - started
    engine = drive.engine
    del drive  # its script and bookkeeping: only the engine's state counts
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0] - traced_from
    tracemalloc.stop()
    del engine
    return traced / 2**20, seconds


def _request(call: WaitingCall) -> CallRequest:
    return CallRequest(call.call_id, call.tenant_id, call.priority, call.requirements)


def _profile_rows(profiler: cProfile.Profile, decisions: int) -> list[ProfileRow]:
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = []
    for (path, line, name), (_, calls, own, cumulative, _) in stats.items():
        if "_lsprof" in name or path == __file__:  # the profiler's and the bench's own
            continue
        label = name.strip("<>") if path == "~" else f"{Path(path).name}:{line}({name})"
        rows.append(
            ProfileRow(
                label, calls / decisions, 1e3 * own / decisions, 1e3 * cumulative / decisions
            )
        )
    rows.sort(key=lambda row: row.cumulative_ms, reverse=True)
    return rows[:PROFILE_ROWS]


def _naive_setup(script: Script) -> NaiveRouter:
    naive, clock = NaiveRouter(), Clock()
    for profile in script.agents:
        naive.add_agent(profile.agent_id, profile.skills, clock.tick())
    for request, agent_id in script.busy:
        naive.assign(request.call_id, agent_id)
    for request in script.waiting:
        if naive.enqueue(request, clock.tick()) is not None:
            raise BenchError("the baseline assigned a waiting call while every agent was busy")
    return naive


def _replay(naive: NaiveRouter, script: Script) -> tuple[Samples, int, tuple[int, int]]:
    """The engine's operations on the baseline, the decisions timed the same way.

    Answers the timings, in how many decisions it chose as the engine did, and its offers.
    """
    clock, samples, same = Clock(), Samples(), 0
    decided = enqueued = 0
    for call_id, engine_got, follow_up in script.decisions:
        now = clock.tick()
        started = time.perf_counter_ns()
        got = naive.wrap_up(call_id, now)
        samples.decisions.append(time.perf_counter_ns() - started)
        same += got == engine_got
        decided += got is not None
        naive.enqueue(follow_up, clock.tick())
    for call_id, _, follow_up in script.profiled:  # replayed, not timed
        naive.wrap_up(call_id, clock.tick())
        naive.enqueue(follow_up, clock.tick())
    for call_id in script.freed:
        naive.wrap_up(call_id, clock.tick())
    for request, engine_agent in script.enqueues:
        now = clock.tick()
        started = time.perf_counter_ns()
        agent_id = naive.enqueue(request, now)
        samples.enqueues.append(time.perf_counter_ns() - started)
        same += agent_id == engine_agent
        enqueued += agent_id is not None
        naive.wrap_up(request.call_id, clock.tick())
    return samples, same, (decided, enqueued)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
