"""Every engine effect survives the trip through an event and the codec unchanged."""

from __future__ import annotations

from callcenter_events import decode, encode, wrap
from routing.domain import decisions as fx
from routing.domain.engine import CallRequest, Engine
from routing.domain.model import EscalationStep, Policy, Presence, Selection
from routing.facts import FACT_TYPES, effect_of, event_of, moment, seconds

SKILLS = {"tenant:acme": 1, "lang:de": 3, "topic:billing": 2}


def a_day_of_routing() -> list[fx.Effect]:
    """One of each: policy, agents, calls, escalation, every offer outcome, wrap-ups."""
    engine = Engine(heartbeat_timeout_s=500)
    steps = (EscalationStep(30.0, frozenset({"topic:billing"}), {"lang:de": 1}),)
    effects = engine.set_policy("acme", Policy(Selection.BEST_SKILL, 10.0, steps, 60.0), 1.5)
    effects += engine.upsert_agent("a1", "Ada", SKILLS, 2, 2.25)
    effects += engine.set_presence("a1", Presence.AVAILABLE, 3.0)
    effects += engine.enqueue(CallRequest("c1", "acme", 2, {"tenant:acme": 1}), 4.0)
    effects += engine.reject("c1.1", 5.0)  # nobody else: c1 waits
    effects += engine.enqueue(CallRequest("c2", "acme", 0, {"lang:de": 2}), 6.0)
    effects += engine.advance(17.0)  # c2's offer is missed: a1 away
    effects += engine.set_presence("a1", Presence.AVAILABLE, 18.0)
    effects += engine.accept("c2.2", 19.0)
    effects += engine.end_call("c2", 20.0)
    effects += engine.wrap_up("c2", 21.0)
    effects += engine.advance(40.0)  # c1 escalates
    effects += engine.cancel("c1", 41.0)  # waiting: dequeued
    effects += engine.enqueue(CallRequest("c4", "acme", 0, {"lang:de": 1}), 41.5)
    effects += engine.cancel("c4", 41.75)  # offered: withdrawn
    effects += engine.enqueue(CallRequest("c3", "acme", 0, {"lang:de": 1}), 42.0)
    effects += engine.accept("c3.1", 43.0)
    effects += engine.end_call("c3", 44.0)
    return effects + engine.advance(200.0)  # the wrap-up limit, then the heartbeat


def test_every_effect_comes_back_from_its_event_unchanged() -> None:
    effects = a_day_of_routing()
    types = set()
    for seq, effect in enumerate(effects, start=1):
        event = event_of(effect, seq)
        read = decode(encode(wrap(event, source="/test", correlation_id="t"))).data
        assert read.seq == seq  # type: ignore[attr-defined]
        assert effect_of(read) == effect
        types.add(read.event_type)
    assert types == FACT_TYPES, "the day covers every kind of fact"


def test_times_come_back_to_the_microsecond() -> None:
    for value in (0.0, 1.000001, 1_764_230_000.123456, 1_764_230_015.999999):
        assert seconds(moment(value)) == value
