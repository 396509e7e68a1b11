"""Escalation: a call's requirements relaxed step by step as it waits (pure).

A step drops skills or lowers minimum levels; it never adds a skill or raises a level, so a
call waiting longer can only be matched by more agents, never by fewer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from routing.domain.model import EscalationStep, Requirements


def active_step(steps: Sequence[EscalationStep], waited_s: float) -> int:
    """How many steps apply after `waited_s` of waiting (0: none yet)."""
    return sum(1 for step in steps if step.after_s <= waited_s)


def relaxed(requirements: Mapping[str, int], steps: Sequence[EscalationStep]) -> Requirements:
    """The requirements after applying `steps` in order."""
    current = dict(requirements)
    for step in steps:
        for skill in step.drop_skills:
            current.pop(skill, None)
        for skill, level in step.min_levels.items():
            if skill in current:
                current[skill] = min(current[skill], level)
    return current


def next_step_at(steps: Sequence[EscalationStep], queued_at: float, step: int) -> float | None:
    """When the step after `step` begins, or None when no step is left."""
    return queued_at + steps[step].after_s if step < len(steps) else None
