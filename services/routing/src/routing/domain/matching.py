"""Which agents qualify for a call, which one gets it, and why (pure).

The decision lists the best eligible candidates with their scores and, for agents who have the
required skills but were passed over, the reason; how many more were not listed is counted,
so a decision stays small with 10,000 agents.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

from routing.domain.agent_bits import NOBODY, AgentSlots, any_of, common
from routing.domain.decisions import Candidate, Decision
from routing.domain.model import Agent, Presence, Requirements, Selection, WaitingCall

LISTED_ELIGIBLE = 5
LISTED_NOT_ELIGIBLE = 10
SortKey = tuple[float, float, str]


def qualified_pool(
    requirements: Requirements,
    free_by_skill: Mapping[str, int],
    agents: Mapping[str, Agent],
    slots: AgentSlots,
) -> list[Agent]:
    """The agents free to take a call who meet every requirement (by slot: deterministic).

    `free_by_skill` holds, for each skill, the free agents who have it, as `slots` bits.
    """
    if requirements:
        free = common(free_by_skill.get(skill, NOBODY) for skill in requirements)
    else:
        free = any_of(free_by_skill.values())
    found = [agents[agent_id] for agent_id in slots.ids(free)]
    above_one = {skill: level for skill, level in requirements.items() if level > 1}
    if not above_one:
        return found  # having a skill means level 1 at least: the bits said it all
    return [agent for agent in found if meets(agent, above_one)]


def meets(agent: Agent, requirements: Requirements) -> bool:
    skills = agent.skills
    return all(skills.get(skill, 0) >= level for skill, level in requirements.items())


def score(agent: Agent, requirements: Requirements, selection: Selection, now: float) -> float:
    if selection is Selection.BEST_SKILL:
        return float(sum(agent.skills.get(skill, 0) for skill in requirements))
    return now - agent.idle_since


def _key(agent: Agent, requirements: Requirements, selection: Selection) -> SortKey:
    """Smaller is better: the policy's score first, then longest idle, then the agent id."""
    primary = (
        -float(sum(agent.skills.get(s, 0) for s in requirements))
        if selection is Selection.BEST_SKILL
        else 0.0
    )
    return (primary, agent.idle_since, agent.agent_id)


def decide(
    call: WaitingCall,
    requirements: Requirements,
    eligible: list[Agent],
    selection: Selection,
    offer_id: str,
    now: float,
    explain: Sequence[str],
    agents: Mapping[str, Agent],
) -> Decision:
    """The best eligible agent by the policy, with the record of why.

    `explain`: the agents who have every required skill (the eligible ones among them).
    """
    best = heapq.nsmallest(
        LISTED_ELIGIBLE, eligible, key=lambda a: _key(a, requirements, selection)
    )
    chosen = best[0]
    listed = [
        Candidate(a.agent_id, True, score(a, requirements, selection, now), "eligible")
        for a in best
    ]
    eligible_ids = {agent.agent_id for agent in eligible}
    passed_over = [agent_id for agent_id in explain if agent_id not in eligible_ids]
    for agent_id in heapq.nsmallest(LISTED_NOT_ELIGIBLE, passed_over):  # the first ids, sorted
        reason = why_not(agents[agent_id], requirements, call)
        listed.append(Candidate(agent_id, False, None, reason))
    return Decision(
        time=now,
        call_id=call.call_id,
        tenant_id=call.tenant_id,
        agent_id=chosen.agent_id,
        offer_id=offer_id,
        step=call.step,
        requirements=dict(requirements),
        selection=selection,
        candidates=tuple(listed),
        tie_break=_tie_break(best, requirements, selection),
        eligible_count=len(eligible),
        not_listed=len(eligible) - len(best) + max(0, len(passed_over) - LISTED_NOT_ELIGIBLE),
    )


def why_not(agent: Agent, requirements: Requirements, call: WaitingCall) -> str:
    """Why an agent with the required skills did not get the call."""
    if agent.presence is not Presence.AVAILABLE:
        return agent.presence.value
    if agent.load >= agent.capacity:
        return f"at capacity ({agent.load}/{agent.capacity}, {agent.status.value})"
    for skill, level in sorted(requirements.items()):
        has = agent.skills.get(skill, 0)
        if has < level:
            return f"level {has} < {level} in {skill}"
    if agent.agent_id in call.declined_by:
        return "declined this call"
    return "not free"


def _tie_break(best: list[Agent], requirements: Requirements, selection: Selection) -> str:
    if len(best) < 2:
        return "only one eligible agent"
    first, second = (_key(agent, requirements, selection) for agent in best[:2])
    if first[0] != second[0]:
        return "none: highest summed skill level"
    if first[1] != second[1]:
        return (
            "equal skill, longest idle"
            if selection is Selection.BEST_SKILL
            else "none: longest idle"
        )
    return "equal score and idle time: lowest agent id"
