"""Invariants of the routing engine under random sequences of everything that can happen.

- no offer to an agent who lacks a required skill, unless an escalation step relaxed it, and
  then the decision names the step;
- no agent ever holds more calls (offers, conversations, wrap-ups) than its capacity;
- within one priority and requirement set, first come first served; across them, no call
  that ranks higher (priority, then the longer wait) and that the agent qualifies for is left
  waiting;
- an agent who declined a call is never offered it again;
- escalation only ever relaxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from routing.domain import snapshot
from routing.domain.decisions import CallEscalated, Effect, OfferEnded, OfferMade
from routing.domain.engine import CallRequest, Engine, UnknownOfferError
from routing.domain.escalation import relaxed
from routing.domain.model import EscalationStep, Policy, Presence, Selection

SKILLS = ["tenant:acme", "lang:de", "lang:en", "topic:billing", "topic:outage"]
levels = st.integers(min_value=1, max_value=5)
skill_levels = st.dictionaries(st.sampled_from(SKILLS), levels, min_size=1, max_size=4)
agent_skills = st.dictionaries(st.sampled_from(SKILLS), levels, min_size=3, max_size=5)
call_needs = st.dictionaries(st.sampled_from(SKILLS), levels, min_size=1, max_size=2)
steps = st.lists(
    st.builds(
        EscalationStep,
        after_s=st.integers(min_value=1, max_value=60).map(float),
        drop_skills=st.frozensets(st.sampled_from(SKILLS), max_size=2),
        min_levels=st.dictionaries(st.sampled_from(SKILLS), levels, max_size=2),
    ),
    max_size=3,
).map(lambda found: tuple(sorted(found, key=lambda step: step.after_s)))

operations = st.lists(
    st.one_of(
        st.tuples(st.just("agent"), st.integers(0, 5), agent_skills),
        st.tuples(st.just("presence"), st.integers(0, 5), st.sampled_from(list(Presence))),
        st.tuples(st.just("presence"), st.integers(0, 5), st.just(Presence.AVAILABLE)),
        st.tuples(st.just("call"), st.integers(0, 1), call_needs),
        st.tuples(st.just("accept"), st.integers(0, 30)),
        st.tuples(st.just("reject"), st.integers(0, 30)),
        st.tuples(st.just("end"), st.integers(0, 30)),
        st.tuples(st.just("wrap_up"), st.integers(0, 30)),
        st.tuples(st.just("cancel"), st.integers(0, 30)),
        st.tuples(st.just("wait"), st.integers(1, 40)),
    ),
    min_size=10,
    max_size=80,
)


@dataclass
class Run:
    engine: Engine
    now: float = 0.0
    calls: int = 0

    def do(self, operation: tuple[Any, ...]) -> list[Effect]:
        kind, *args = operation
        self.now += 1
        engine, now = self.engine, self.now
        if kind == "agent":  # an agent logs in (or changes skills) and is available
            capacity = 1 + args[0] % 2  # fixed per agent: lowering it is no offer's fault
            effects = engine.upsert_agent(f"a{args[0]}", "x", args[1], capacity, now)
            return effects + engine.set_presence(f"a{args[0]}", Presence.AVAILABLE, now)
        if kind == "presence":
            if f"a{args[0]}" not in engine.agents:
                return []
            return engine.set_presence(f"a{args[0]}", args[1], now)
        if kind == "call":
            self.calls += 1
            return engine.enqueue(CallRequest(f"c{self.calls}", "acme", args[0], args[1]), now)
        if kind == "wait":
            self.now += args[0]
            return engine.advance(self.now)
        return self._about_a_call(kind, args[0], now)

    def _about_a_call(self, kind: str, index: int, now: float) -> list[Effect]:
        engine = self.engine
        if kind in ("accept", "reject"):
            open_offers = sorted(engine.offers)
            if not open_offers:
                return []
            offer_id = open_offers[index % len(open_offers)]
            answer = engine.accept if kind == "accept" else engine.reject
            try:
                return answer(offer_id, now)
            except UnknownOfferError as too_late:  # it timed out by `now`: refused
                assert offer_id not in engine.offers
                return too_late.effects
        call_id = f"c{index % max(self.calls, 1) + 1}"
        action = {"end": engine.end_call, "wrap_up": engine.wrap_up, "cancel": engine.cancel}
        return action[kind](call_id, now)


def check(
    run: Run,
    effects: list[Effect],
    originals: dict[str, dict[str, int]],
    declined: set[tuple[str, str]],
) -> None:
    engine = run.engine
    for agent in engine.agents.values():
        assert agent.load <= agent.capacity, f"{agent.agent_id} over capacity"
    for effect in effects:
        if not isinstance(effect, OfferMade):
            continue
        decision, agent = effect.decision, engine.agents[effect.decision.agent_id]
        wanted = originals[decision.call_id]
        assert all(agent.skills.get(s, 0) >= lvl for s, lvl in decision.requirements.items())
        assert set(decision.requirements) <= set(wanted)
        assert all(decision.requirements[s] <= wanted[s] for s in decision.requirements)
        if any(agent.skills.get(s, 0) < lvl for s, lvl in wanted.items()):
            assert decision.step > 0, "only an escalation step lets a less skilled agent take it"
        _first_come_first_served(engine, effect)
        _best_call_first(engine, effect)
        assert (decision.call_id, decision.agent_id) not in declined, "offered to who declined"
    for effect in effects:
        if isinstance(effect, OfferEnded) and effect.outcome == "rejected":
            declined.add((effect.offer.call_id, effect.offer.agent_id))


def _best_call_first(engine: Engine, made: OfferMade) -> None:
    offered = engine.calls.get(made.offer.call_id)
    if offered is None or offered.offer is not made.offer:
        return
    agent = engine.agents[made.offer.agent_id]
    rank = (-offered.priority, offered.queued_at, offered.seq)
    escalation = engine.policies["acme"].escalation
    for other in engine.waiting():
        if (-other.priority, other.queued_at, other.seq) >= rank:
            continue
        needs = relaxed(other.requirements, escalation[: other.step])
        qualifies = all(agent.skills.get(s, 0) >= lvl for s, lvl in needs.items())
        assert not qualifies or agent.agent_id in other.declined_by, (
            f"{other.call_id} ranks before {offered.call_id} and {agent.agent_id} qualifies"
        )


def _first_come_first_served(engine: Engine, made: OfferMade) -> None:
    offered = engine.calls.get(made.offer.call_id)
    if offered is None or offered.offer is not made.offer:
        return  # answered or withdrawn within the same step
    for earlier in engine.waiting():
        same_queue = (earlier.priority, earlier.requirements) == (
            offered.priority,
            offered.requirements,
        )
        if same_queue and earlier.seq < offered.seq:
            assert made.offer.agent_id in earlier.declined_by, (
                f"{earlier.call_id} waited longer than {offered.call_id}"
            )


@given(
    operations,
    steps,
    st.sampled_from(list(Selection)),
    st.integers(min_value=20, max_value=400),
)
@settings(max_examples=300, deadline=None)
def test_the_invariants_hold_whatever_happens(
    script: list[tuple[Any, ...]],
    escalation: tuple[EscalationStep, ...],
    selection: Selection,
    heartbeat: int,
) -> None:
    run = Run(Engine(heartbeat_timeout_s=float(heartbeat)))
    run.engine.set_policy("acme", Policy(selection=selection, escalation=escalation), now=0)
    originals: dict[str, dict[str, int]] = {}
    declined: set[tuple[str, str]] = set()
    for operation in script:
        effects = run.do(operation)
        originals.update({c.call_id: c.requirements for c in run.engine.calls.values()})
        check(run, effects, originals, declined)
        for effect in effects:
            if isinstance(effect, CallEscalated):
                wanted = originals[effect.call_id]
                assert set(effect.requirements) <= set(wanted)


@given(skill_levels, steps)
def test_escalation_only_ever_relaxes(
    requirements: dict[str, int], escalation: tuple[EscalationStep, ...]
) -> None:
    previous = dict(requirements)
    for count in range(1, len(escalation) + 1):
        current = relaxed(requirements, escalation[:count])
        assert set(current) <= set(previous)
        assert all(current[skill] <= previous[skill] for skill in current)
        previous = current


@given(operations, operations, steps, st.sampled_from(list(Selection)))
@settings(max_examples=100, deadline=None)
def test_an_engine_rebuilt_from_its_facts_carries_on_exactly_like_the_original(
    before: list[tuple[Any, ...]],
    after: list[tuple[Any, ...]],
    escalation: tuple[EscalationStep, ...],
    selection: Selection,
) -> None:
    """Restart: fold the effects into a new engine (no decision re-made), resume, go on."""
    original, facts = _run_before(before, escalation, selection)
    rebuilt = Engine(heartbeat_timeout_s=HOURS)
    for fact in facts:
        rebuilt.restore(fact)
    _goes_on_alike(rebuilt, original, after)


def _run_before(
    before: list[tuple[Any, ...]], escalation: tuple[EscalationStep, ...], selection: Selection
) -> tuple[Run, list[Effect]]:
    """An engine after the policy and `before`, and every effect it answered."""
    original = Run(Engine(heartbeat_timeout_s=HOURS))
    policy = Policy(selection=selection, escalation=escalation)
    facts = original.engine.set_policy("acme", policy, now=0)
    for operation in before:
        facts += original.do(operation)
    return original, facts


def _goes_on_alike(copy: Engine, original: Run, after: list[tuple[Any, ...]]) -> None:
    """Resumed at the original's time, the copy is in its state and answers `after` alike."""
    twin = Run(copy, now=original.now, calls=original.calls)
    assert copy.resume(original.now) == original.engine.advance(original.now)
    assert state_of(copy) == state_of(original.engine)
    for operation in after:
        assert twin.do(operation) == original.do(operation)


HOURS = 36_000.0


def state_of(engine: Engine) -> dict[str, Any]:
    """What an observer can tell about an engine: agents, offers, calls in their order."""
    return {
        "agents": {
            agent_id: (
                agent.presence,
                agent.idle_since,
                agent.capacity,
                agent.skills,
                sorted(agent.connected),
                agent.wrapping_up,
                sorted(agent.offers),
            )
            for agent_id, agent in engine.agents.items()
        },
        "offers": {
            o.offer_id: (o.agent_id, o.made_at, o.expires_at) for o in engine.offers.values()
        },
        "calls": [
            (call.call_id, call.step, sorted(call.declined_by), call.queued_at)
            for call in sorted(engine.calls.values(), key=lambda c: c.seq)
        ],
    }


@given(operations, operations, steps, st.sampled_from(list(Selection)))
@settings(max_examples=100, deadline=None)
def test_an_engine_loaded_from_its_snapshot_carries_on_exactly_like_the_original(
    before: list[tuple[Any, ...]],
    after: list[tuple[Any, ...]],
    escalation: tuple[EscalationStep, ...],
    selection: Selection,
) -> None:
    """Snapshot (through JSON, as stored), load, resume, go on: nothing differs."""
    original, _facts = _run_before(before, escalation, selection)
    stored = orjson.loads(orjson.dumps(snapshot.dump(original.engine)))
    _goes_on_alike(snapshot.load(stored, heartbeat_timeout_s=HOURS), original, after)
