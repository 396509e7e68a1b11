"""The engine's state as plain data and back (pure): what a snapshot stores.

A snapshot spares a restart the fold of every fact since the beginning: the state at fact
number `seq` is loaded, and only the facts after it are folded on top. Its format has a
number; a snapshot of another format is ignored and the state rebuilt from the log, which
is always possible and always right.
"""

from __future__ import annotations

from typing import Any

from routing.domain.engine import CallRequest, Engine
from routing.domain.model import EscalationStep, Offer, Policy, Presence, Selection

FORMAT = 1
State = dict[str, Any]


def dump(engine: Engine) -> State:
    """Everything the engine knows, as JSON-ready data (timers follow from it)."""
    return {
        "format": FORMAT,
        "now": engine.now,
        "policies": {tenant: _policy(policy) for tenant, policy in engine.policies.items()},
        "agents": [
            [
                a.agent_id,
                a.name,
                a.skills,
                a.capacity,
                a.presence.value,
                a.idle_since,
                a.last_seen,
                sorted(a.connected),
                a.wrapping_up,
            ]
            for a in engine.agents.values()
        ],
        "calls": [
            [
                c.call_id,
                c.tenant_id,
                c.priority,
                c.requirements,
                c.queued_at,
                c.step,
                sorted(c.declined_by),
            ]
            for c in sorted(engine.calls.values(), key=lambda call: call.seq)
        ],
        "offers": [
            [o.offer_id, o.call_id, o.tenant_id, o.agent_id, o.made_at, o.expires_at]
            for o in engine.offers.values()
        ],
        "attempts": engine._attempts,
        "tenant_of_call": engine._tenant_of_call,
        "agent_of_call": engine._agent_of_call,
    }


def load(state: State, *, heartbeat_timeout_s: float) -> Engine:
    """A new engine in the dumped state; call `resume` on it to set its timers."""
    if state.get("format") != FORMAT:
        raise ValueError(f"snapshot format {state.get('format')!r}, this code reads {FORMAT}")
    engine = Engine(heartbeat_timeout_s=heartbeat_timeout_s)
    engine.now = state["now"]
    for tenant, policy in state["policies"].items():
        engine._set_policy(tenant, _policy_of(policy))
    for row in state["agents"]:
        _load_agent(engine, row)
    for call_id, tenant, priority, requirements, queued_at, step, declined in state["calls"]:
        call = engine._add_call(CallRequest(call_id, tenant, priority, requirements), queued_at)
        call.step = step
        call.declined_by = set(declined)
        if step:
            engine._reanchor(engine._key(call))
    for offer_id, call_id, tenant, agent_id, made_at, expires_at in state["offers"]:
        offer = Offer(offer_id, call_id, tenant, agent_id, made_at, expires_at)
        engine._hold_offer(engine.calls[call_id], offer)
    engine._attempts.update(state["attempts"])
    engine._tenant_of_call.update(state["tenant_of_call"])
    engine._agent_of_call.update(state["agent_of_call"])
    return engine


def _load_agent(engine: Engine, row: list[Any]) -> None:
    agent_id, name, skills, capacity, presence, idle_since, last_seen, connected, wrapping = row
    engine._upsert_agent(agent_id, name, skills, capacity, idle_since)
    agent = engine.agents[agent_id]
    engine._unindex(agent)
    agent.presence = Presence(presence)
    agent.idle_since, agent.last_seen = idle_since, last_seen
    agent.connected = set(connected)
    agent.wrapping_up = dict(wrapping)
    engine._index(agent)


def _policy(policy: Policy) -> dict[str, Any]:
    return {
        "selection": policy.selection.value,
        "offer_timeout_s": policy.offer_timeout_s,
        "wrap_up_limit_s": policy.wrap_up_limit_s,
        "escalation": [
            [step.after_s, sorted(step.drop_skills), dict(step.min_levels)]
            for step in policy.escalation
        ],
    }


def _policy_of(data: dict[str, Any]) -> Policy:
    return Policy(
        selection=Selection(data["selection"]),
        offer_timeout_s=data["offer_timeout_s"],
        wrap_up_limit_s=data["wrap_up_limit_s"],
        escalation=tuple(
            EscalationStep(after_s, frozenset(drop), dict(levels))
            for after_s, drop, levels in data["escalation"]
        ),
    )
