"""The simulation: Poisson arrivals, exponential handle and patience times, the real engine.

A discrete-event loop on a simulated clock: each event (a call arrives, an agent answers an
offer, a conversation ends, a wrap-up ends, a caller gives up) is handed to the engine at its
time, and the engine's effects schedule what follows. Agents are logged in and available for
the whole run. Calls arriving within `hours` are counted; the run continues until they are all
finished. The same scenario and seed give the same report.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from typing import Any

from routing.domain.decisions import Effect, OfferEnded, OfferMade
from routing.domain.engine import CallRequest, Engine, UnknownOfferError
from routing.domain.model import Presence
from routing.domain.requirements import requirements_of
from routing.simulation.scenario import TENANT, Scenario


@dataclass
class CallLife:
    arrived: float
    patience: float
    connected: float | None = None
    abandoned: float | None = None
    talk: float = 0.0
    wrap: float = 0.0
    agent: str | None = None


@dataclass
class Simulation:
    scenario: Scenario
    rng: random.Random = field(init=False)
    engine: Engine = field(init=False)
    calls: dict[str, CallLife] = field(default_factory=dict)
    busy: dict[str, float] = field(default_factory=dict)  # agent -> busy seconds in horizon
    agents: int = 0
    _events: list[tuple[float, int, str, str]] = field(default_factory=list)
    _seq: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.scenario.seed)
        self.engine = Engine(heartbeat_timeout_s=math.inf)
        self.engine.set_policy(TENANT, self.scenario.policy.policy(), 0.0)

    def run(self) -> dict[str, Any]:
        self._staff()
        self._schedule(self._next_arrival(0.0), "arrival", "")
        while self._events:
            at, _seq, kind, key = heapq.heappop(self._events)
            self._handle(self._act(kind, key, at), at)
        return self._report()

    def _staff(self) -> None:
        for group_index, group in enumerate(self.scenario.agents):
            skills = {f"tenant:{TENANT}": 5, **group.skills}
            for index in range(group.count):
                agent_id = f"g{group_index}-a{index:05d}"
                self.engine.upsert_agent(agent_id, agent_id, skills, group.capacity, 0.0)
                self.engine.set_presence(agent_id, Presence.AVAILABLE, 0.0)
                self.busy[agent_id] = 0.0
                self.agents += 1

    def _schedule(self, at: float, kind: str, key: str) -> None:
        self._seq += 1
        heapq.heappush(self._events, (at, self._seq, kind, key))

    def _next_arrival(self, now: float) -> float:
        return now + self.rng.expovariate(self.scenario.arrival_rate / 3600.0)

    def _act(self, kind: str, key: str, at: float) -> list[Effect]:
        actions = {
            "arrival": lambda: self._arrive(at),
            "answer": lambda: self._answer(key, at),
            "abandon": lambda: self._abandon(key, at),
            "end": lambda: self.engine.end_call(key, at),
            "wrapped": lambda: self.engine.wrap_up(key, at),
        }
        return actions[kind]()

    def _answer(self, offer_id: str, at: float) -> list[Effect]:
        try:
            return self.engine.accept(offer_id, at)
        except UnknownOfferError as gone:  # the caller gave up while it rang
            return gone.effects

    def _abandon(self, call_id: str, at: float) -> list[Effect]:
        life = self.calls[call_id]
        if life.connected is not None:
            return []
        life.abandoned = at
        return self.engine.cancel(call_id, at)

    def _arrive(self, at: float) -> list[Effect]:
        if at >= self.scenario.hours * 3600:
            return []
        self._schedule(self._next_arrival(at), "arrival", "")
        mix = self.rng.choices(self.scenario.calls, [m.weight for m in self.scenario.calls])[0]
        call_id = f"c{len(self.calls) + 1:07d}"
        patience = (
            self.rng.expovariate(1 / self.scenario.patience_s)
            if self.scenario.patience_s
            else math.inf
        )
        self.calls[call_id] = CallLife(arrived=at, patience=patience)
        if math.isfinite(patience):
            self._schedule(at + patience, "abandon", call_id)
        needs = requirements_of(TENANT, mix.language, mix.topic, mix.required_skills)
        return self.engine.enqueue(CallRequest(call_id, TENANT, mix.priority, needs), at)

    def _handle(self, effects: list[Effect], at: float) -> None:
        for effect in effects:
            if isinstance(effect, OfferMade):
                self._schedule(at + self.scenario.answer_delay_s, "answer", effect.offer.offer_id)
            elif isinstance(effect, OfferEnded) and effect.outcome == "accepted":
                self._connect(effect.offer.call_id, effect.offer.agent_id, at)

    def _connect(self, call_id: str, agent_id: str, at: float) -> None:
        life = self.calls[call_id]
        handle = self.rng.expovariate(1 / self.scenario.aht_s)
        life.connected, life.agent = at, agent_id
        life.wrap = handle * self.scenario.wrap_up_share
        life.talk = handle - life.wrap
        self._schedule(at + life.talk, "end", call_id)
        self._schedule(at + handle, "wrapped", call_id)
        horizon = self.scenario.hours * 3600
        self.busy[agent_id] += max(0.0, min(at + handle, horizon) - min(at, horizon))

    def _report(self) -> dict[str, Any]:
        s = self.scenario
        lives = list(self.calls.values())
        answered = [c for c in lives if c.connected is not None]
        abandoned = [c for c in lives if c.connected is None]
        short = [c for c in abandoned if (c.abandoned or 0) - c.arrived < s.short_abandon_s]
        waits = [(c.connected or 0) - c.arrived for c in answered]
        in_time = sum(1 for wait in waits if wait <= s.service_level_threshold_s)
        counted = len(answered) + len(abandoned) - len(short)
        handle = [c.talk + c.wrap for c in answered]
        capacity_s = sum(g.count for g in s.agents) * s.hours * 3600
        return {
            "offered": len(lives),
            "answered": len(answered),
            "abandoned": len(abandoned),
            "short_abandoned": len(short),
            "service_level": _ratio(in_time, counted),
            "asa_s": _mean(waits),
            "aht_s": _mean(handle),
            "abandonment_rate": _ratio(len(abandoned) - len(short), len(lives) - len(short)),
            "occupancy": _ratio(sum(self.busy.values()), capacity_s),
            "agents": self.agents,
            "hours": s.hours,
            "arrival_rate": s.arrival_rate,
            "seed": s.seed,
            "service_level_threshold_s": s.service_level_threshold_s,
        }


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def simulate(scenario: Scenario) -> dict[str, Any]:
    return Simulation(scenario).run()
