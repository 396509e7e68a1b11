"""NPS and CSAT of a survey's answers, grouped by question, target group and the call's path.

Formulas (version `surveys/2`), over the answers in each group:
- responses = distinct responses that answered any question of the group;
- NPS = % promoters (9-10) - % detractors (0-6) of the NPS answers, -100..100, 2 decimals;
- CSAT = share of 4 and 5 of the CSAT answers (0..1, 4 decimals), `csat_mean` their mean
  (4 decimals).
A figure without answers to count is null, not 0. A list-valued attribute (products bought)
puts the response in the group of each of its values. Groups: `question`, `campaign`, `agent`,
`step`, `wait` (bands, see `analytics.survey_path`), `segment.<name>`; a response whose call
is unknown has null path groups.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine

from analytics.survey_path import PATH_GROUPS, PathAnswer, SurveyQuery, path_answers

SURVEY_FORMULA_VERSION = "surveys/2"
SURVEY_FIGURES = ("responses", "nps_answers", "nps", "csat_answers", "csat", "csat_mean")
SEGMENT_PREFIX = "segment."
SEGMENT_GROUP = re.compile(r"^segment\.[a-z][a-z0-9_]{0,39}$")
GROUPS = ("question", *sorted(PATH_GROUPS), "segment.<name>")
PROMOTER, DETRACTOR = 9, 6
SATISFIED = 4
PATH_FIELDS = {"campaign": "campaign_id", "agent": "agent_id", "step": "step", "wait": "wait_band"}


def bad_groups(group_by: Iterable[str]) -> list[str]:
    """The names that are no group this report knows."""
    known = {"question", *PATH_GROUPS}
    return [g for g in group_by if g not in known and not SEGMENT_GROUP.match(g)]


def survey_report(engine: Engine, query: SurveyQuery) -> list[dict[str, Any]]:
    return grouped_figures(path_answers(engine, query), query.group_by)


def grouped_figures(
    answers: Iterable[PathAnswer], group_by: tuple[str, ...]
) -> list[dict[str, Any]]:
    groups: defaultdict[tuple[Any, ...], list[PathAnswer]] = defaultdict(list)
    for answer in answers:
        for key in group_keys(answer, group_by):
            groups[key].append(answer)
    return [
        dict(zip(group_by, key, strict=True)) | figures(members)
        for key, members in sorted(groups.items(), key=lambda item: repr(item[0]))
    ]


def figures(answers: Sequence[PathAnswer]) -> dict[str, Any]:
    nps = [a.score for a in answers if a.type == "nps" and a.score is not None]
    csat = [a.score for a in answers if a.type == "csat" and a.score is not None]
    return {
        "responses": len({a.response_id for a in answers}),
        "nps_answers": len(nps),
        "nps": nps_of(nps),
        "csat_answers": len(csat),
        "csat": round(sum(s >= SATISFIED for s in csat) / len(csat), 4) if csat else None,
        "csat_mean": round(sum(csat) / len(csat), 4) if csat else None,
    }


def nps_of(scores: list[float]) -> float | None:
    if not scores:
        return None
    promoters = sum(s >= PROMOTER for s in scores)
    detractors = sum(s <= DETRACTOR for s in scores)
    return round(100 * (promoters - detractors) / len(scores), 2)


def group_keys(answer: PathAnswer, group_by: tuple[str, ...]) -> list[tuple[Any, ...]]:
    keys: list[tuple[Any, ...]] = [()]
    for name in group_by:
        values = _values(answer, name)
        keys = [(*key, value) for key in keys for value in values]
    return keys


def _values(answer: PathAnswer, name: str) -> list[Any]:
    if name == "question":
        return [answer.question_id]
    if name in PATH_FIELDS:
        return [getattr(answer, PATH_FIELDS[name])]
    value = answer.segment.get(name.removeprefix(SEGMENT_PREFIX))
    if isinstance(value, list):
        return list(dict.fromkeys(value)) or [None]
    return [value]
