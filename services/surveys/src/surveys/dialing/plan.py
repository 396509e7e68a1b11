"""Which of a campaign's candidates to call now, within the room each line has."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from callcenter_events.models import CampaignRules

from surveys.dialing.eligibility import Standing, Target, judge
from surveys.dialing.pacing import Line

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Candidate(Generic[K]):
    key: K
    target: Target
    line: Line


def pick(
    candidates: Iterable[Candidate[K]], rules: CampaignRules, now: datetime, room: Counter[Line]
) -> list[Candidate[K]]:
    """The callable candidates, in the order given, while their line has room (room shrinks)."""
    chosen: list[Candidate[K]] = []
    for candidate in candidates:
        if room[candidate.line] <= 0:
            continue
        if judge(candidate.target, rules, now) is Standing.CALLABLE:
            chosen.append(candidate)
            room[candidate.line] -= 1
    return chosen
