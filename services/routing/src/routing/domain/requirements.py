"""What a call requires of an agent: skills with minimum levels (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping

Requirements = dict[str, int]
CAMPAIGN_SKILL = "campaign"


def requirements_of(
    tenant_id: str,
    language: str,
    topic: str,
    required_skills: Mapping[str, int],
    *,
    outbound: bool = False,
) -> Requirements:
    """`tenant:<id>`, `lang:<primary language>` and `topic:<name>` at level 1, plus explicit skills.

    An outbound (campaign) call needs `campaign` instead of a topic. An explicit skill that
    repeats a derived one raises its minimum level, never lowers it.
    """
    derived = {
        f"tenant:{tenant_id}": 1,
        f"lang:{language.split('-', maxsplit=1)[0].lower()}": 1,
    }
    if outbound:
        derived[CAMPAIGN_SKILL] = 1
    else:
        derived[f"topic:{topic}"] = 1
    for skill, level in required_skills.items():
        derived[skill] = max(level, derived.get(skill, 0))
    return derived
