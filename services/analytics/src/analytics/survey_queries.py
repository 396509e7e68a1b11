"""NPS and CSAT of a survey's answers, grouped by question or by target-group attribute.

Formulas (version `surveys/1`), over the answers in each group:
- responses = distinct responses that answered any question of the group;
- NPS = % promoters (9-10) - % detractors (0-6) of the NPS answers, -100..100, 2 decimals;
- CSAT = share of 4 and 5 of the CSAT answers (0..1, 4 decimals), `csat_mean` their mean.
A figure without answers to count is null, not 0. A list-valued attribute (products bought)
puts the response in the group of each of its values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from analytics.projections.surveys import SurveyAnswer, SurveyQuestion

SURVEY_FORMULA_VERSION = "surveys/1"
SEGMENT_PREFIX = "segment."
PROMOTER, DETRACTOR = 9, 6
SATISFIED = 4


@dataclass(frozen=True, slots=True)
class SurveyQuery:
    survey_id: str
    tenant_id: str | None
    start: datetime | None
    end: datetime | None
    group_by: tuple[str, ...]


def survey_known(engine: Engine, survey_id: str, tenant_id: str | None) -> bool:
    statement = select(SurveyQuestion.survey_id).where(col(SurveyQuestion.survey_id) == survey_id)
    if tenant_id is not None:
        statement = statement.where(col(SurveyQuestion.tenant_id) == tenant_id)
    with Session(engine) as session:
        return session.exec(statement.limit(1)).first() is not None


def survey_report(engine: Engine, query: SurveyQuery) -> list[dict[str, Any]]:
    groups: defaultdict[tuple[Any, ...], list[SurveyAnswer]] = defaultdict(list)
    for answer in _answers(engine, query):
        for key in _keys(answer, query.group_by):
            groups[key].append(answer)
    return [
        dict(zip(query.group_by, key, strict=True)) | figures(answers)
        for key, answers in sorted(groups.items(), key=lambda item: repr(item[0]))
    ]


def figures(answers: Sequence[SurveyAnswer]) -> dict[str, Any]:
    nps = [a.score for a in answers if a.type == "nps" and a.score is not None]
    csat = [a.score for a in answers if a.type == "csat" and a.score is not None]
    return {
        "responses": len({a.response_id for a in answers}),
        "nps_answers": len(nps),
        "nps": _nps(nps),
        "csat_answers": len(csat),
        "csat": round(sum(s >= SATISFIED for s in csat) / len(csat), 4) if csat else None,
        "csat_mean": round(sum(csat) / len(csat), 4) if csat else None,
    }


def _nps(scores: list[float]) -> float | None:
    if not scores:
        return None
    promoters = sum(s >= PROMOTER for s in scores)
    detractors = sum(s <= DETRACTOR for s in scores)
    return round(100 * (promoters - detractors) / len(scores), 2)


def _answers(engine: Engine, query: SurveyQuery) -> Sequence[SurveyAnswer]:
    statement = select(SurveyAnswer).where(col(SurveyAnswer.survey_id) == query.survey_id)
    if query.tenant_id is not None:
        statement = statement.where(col(SurveyAnswer.tenant_id) == query.tenant_id)
    if query.start is not None:
        statement = statement.where(col(SurveyAnswer.answered_at) >= query.start)
    if query.end is not None:
        statement = statement.where(col(SurveyAnswer.answered_at) < query.end)
    with Session(engine) as session:
        return session.exec(statement).all()


def _keys(answer: SurveyAnswer, group_by: tuple[str, ...]) -> Iterable[tuple[Any, ...]]:
    keys: list[tuple[Any, ...]] = [()]
    for name in group_by:
        values = _values(answer, name)
        keys = [(*key, value) for key in keys for value in values]
    return keys


def _values(answer: SurveyAnswer, name: str) -> list[Any]:
    if name == "question":
        return [answer.question_id]
    value = answer.segment.get(name.removeprefix(SEGMENT_PREFIX))
    if isinstance(value, list):
        return list(dict.fromkeys(value)) or [None]
    return [value]
