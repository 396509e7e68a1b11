"""Progressive pacing: at most one campaign call waiting per available qualified agent.

A line is a tenant and a language. An agent is qualified for a line with the skills
`campaign`, `tenant:<id>` and `lang:<language>`; available means their status is `available`.
A call waits from its request until it is connected or ends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CAMPAIGN_SKILL = "campaign"
Line = tuple[str, str]


@dataclass(frozen=True, slots=True)
class AgentView:
    skills: Mapping[str, int]
    status: str


def language_of(tag: str) -> str:
    """The primary language of a tag, as routing's `lang:` skills name it."""
    return tag.split("-", maxsplit=1)[0].lower()


def lines_of(agent: AgentView) -> list[Line]:
    """The lines an available campaign agent can take."""
    if agent.status != "available" or agent.skills.get(CAMPAIGN_SKILL, 0) < 1:
        return []
    tenants = [s.removeprefix("tenant:") for s in agent.skills if s.startswith("tenant:")]
    languages = [s.removeprefix("lang:") for s in agent.skills if s.startswith("lang:")]
    return [(tenant, language) for tenant in tenants for language in languages]


def room(agents: Iterable[AgentView], waiting: Mapping[Line, int]) -> Counter[Line]:
    """How many more calls each line may request now (lines without room are left out)."""
    available: Counter[Line] = Counter()
    for agent in agents:
        available.update(lines_of(agent))
    return Counter({line: n - waiting.get(line, 0) for line, n in available.items()}) + Counter()
