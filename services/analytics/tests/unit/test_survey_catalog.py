"""`survey_catalog`: a tenant's surveys, their latest questions, responses, segment attributes.

On SQLite and PostgreSQL, through the surveys projection as the service applies it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from analytics.projections.surveys import SurveysProjection
from analytics.survey_catalog import survey_catalog
from analytics.testing import live_store
from callcenter_events import Batch, Envelope, wrap
from callcenter_events.models import (
    Question,
    QuestionType,
    SurveyAnswered,
    SurveyDefined,
    SurveyKind,
)
from callcenter_events.store import make_engine
from callcenter_events.topics import SURVEYS
from sqlalchemy import Engine

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
NPS = Question(id="nps", type=QuestionType.NPS, text="Recommend us?")
CSAT = Question(id="csat", type=QuestionType.CSAT, text="Satisfied?")


def defined(survey: str, tenant: str, version: int, *questions: Question) -> Envelope:
    event = SurveyDefined(
        survey_id=survey,
        tenant_id=tenant,
        version=version,
        name="a survey",
        kind=SurveyKind.POST_CALL,
        questions=list(questions),
        defined_at=T0,
    )
    return wrap(event, source="/test", correlation_id="corr")


def answered(response: str, survey: str, tenant: str, segment: dict[str, Any]) -> Envelope:
    event = SurveyAnswered(
        response_id=response,
        tenant_id=tenant,
        survey_id=survey,
        version=1,
        answers={"nps": 9},
        segment=segment,
        answered_at=T0 + timedelta(minutes=len(response)),
    )
    return wrap(event, source="/test", correlation_id="corr")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    store = live_store(engine, SurveysProjection())
    events = [
        defined("sv-a", "acme", 1, NPS),
        defined("sv-a", "acme", 2, NPS, CSAT),
        defined("sv-quiet", "acme", 1, CSAT),
        defined("sv-g", "globex", 1, NPS),
        answered("r1", "sv-a", "acme", {"region": "north", "age_band": "30-39"}),
        answered("r2", "sv-a", "acme", {"region": "south", "Bad Name": "x"}),
        answered("r3", "sv-g", "globex", {"plan": "gold"}),
    ]
    store.apply(Batch(events, {(SURVEYS.base_name, 0): len(events)}))
    yield engine
    engine.dispose()


def test_a_tenant_sees_its_surveys_with_the_latest_questions(engine: Engine) -> None:
    listed = survey_catalog(engine, "acme")
    assert [(s["survey_id"], s["version"], s["responses"]) for s in listed] == [
        ("sv-a", 2, 2),
        ("sv-quiet", 1, 0),
    ]
    assert listed[0]["questions"] == [
        {"question_id": "csat", "type": "csat"},
        {"question_id": "nps", "type": "nps"},
    ]
    assert {s["tenant_id"] for s in listed} == {"acme"}


def test_segment_attributes_are_those_a_report_can_group_by(engine: Engine) -> None:
    by_id = {s["survey_id"]: s for s in survey_catalog(engine, "acme")}
    assert by_id["sv-a"]["segment_attributes"] == ["age_band", "region"]
    assert by_id["sv-quiet"]["segment_attributes"] == []


def test_another_tenants_surveys_stay_out(engine: Engine) -> None:
    assert [s["survey_id"] for s in survey_catalog(engine, "globex")] == ["sv-g"]
    assert survey_catalog(engine, "initech") == []


def test_the_operator_sees_every_tenants_surveys(engine: Engine) -> None:
    listed = survey_catalog(engine, None)
    assert [(s["tenant_id"], s["survey_id"]) for s in listed] == [
        ("acme", "sv-a"),
        ("acme", "sv-quiet"),
        ("globex", "sv-g"),
    ]
    assert listed[2]["segment_attributes"] == ["plan"]
