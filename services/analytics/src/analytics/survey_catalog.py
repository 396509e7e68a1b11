"""The surveys of a tenant as analytics knows them: what a report of each can be asked for.

Per survey: its latest version's questions (id and type), the number of responses, and the
segment attributes (target-group names) seen in its latest `SEGMENT_SAMPLE` responses: the
`segment.<name>` groups worth offering (names a report cannot group by are left out). Names
and texts of surveys are not projected: the id is what the report endpoint takes.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from analytics.projections.surveys import QUESTIONS, RESPONSES
from analytics.survey_queries import SEGMENT_GROUP, SEGMENT_PREFIX

SEGMENT_SAMPLE = 1000


def survey_catalog(engine: Engine, tenant_id: str | None) -> list[dict[str, Any]]:
    """One entry per survey of the tenant (of every tenant for None), by tenant and id."""
    with engine.connect() as connection:
        questions = _latest_questions(connection, tenant_id)
        counts = _response_counts(connection, tenant_id)
        return [
            {
                "survey_id": survey_id,
                "tenant_id": tenant,
                "version": version,
                "questions": listed,
                "responses": counts.get((tenant, survey_id), 0),
                "segment_attributes": _segment_names(connection, survey_id, tenant),
            }
            for (tenant, survey_id), (version, listed) in sorted(questions.items())
        ]


def _latest_questions(
    connection: Connection, tenant_id: str | None
) -> dict[tuple[str, str], tuple[int, list[dict[str, str]]]]:
    """(tenant, survey) -> its latest version and that version's questions."""
    q = QUESTIONS.c
    statement = select(q.tenant_id, q.survey_id, q.version, q.question_id, q.type)
    if tenant_id is not None:
        statement = statement.where(q.tenant_id == tenant_id)
    versions: defaultdict[tuple[str, str], dict[int, list[dict[str, str]]]] = defaultdict(dict)
    for row in connection.execute(statement.order_by(q.question_id)):
        asked = versions[(row.tenant_id, row.survey_id)].setdefault(row.version, [])
        asked.append({"question_id": row.question_id, "type": row.type})
    return {key: max(found.items()) for key, found in versions.items()}


def _response_counts(connection: Connection, tenant_id: str | None) -> dict[tuple[str, str], int]:
    r = RESPONSES.c
    statement = select(r.tenant_id, r.survey_id, func.count()).group_by(r.tenant_id, r.survey_id)
    if tenant_id is not None:
        statement = statement.where(r.tenant_id == tenant_id)
    return {(row[0], row[1]): row[2] for row in connection.execute(statement)}


def _segment_names(connection: Connection, survey_id: str, tenant_id: str) -> list[str]:
    r = RESPONSES.c
    statement = (
        select(r.segment)
        .where(r.survey_id == survey_id, r.tenant_id == tenant_id)
        .order_by(r.answered_at.desc())
        .limit(SEGMENT_SAMPLE)
    )
    names = {name for (segment,) in connection.execute(statement) for name in segment or {}}
    return sorted(name for name in names if SEGMENT_GROUP.match(f"{SEGMENT_PREFIX}{name}"))
