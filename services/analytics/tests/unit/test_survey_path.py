"""Survey answers joined with the path of their call: NPS and CSAT by wait, agent, step, campaign.

On SQLite and PostgreSQL; a plain table of the columns read stands in for the call facts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from analytics.call_path import CALLS
from analytics.projections.surveys import SurveysProjection
from analytics.survey_path import SurveyQuery, survey_known, wait_band
from analytics.survey_queries import survey_report
from analytics.testing import live_store
from callcenter_events import Batch, Envelope, wrap
from callcenter_events.models import (
    Question,
    QuestionType,
    SurveyAnswered,
    SurveyDefined,
    SurveyKind,
)
from callcenter_events.store import ProjectionStore, make_engine
from callcenter_events.topics import SURVEYS
from sqlalchemy import Column, Engine, MetaData, Table

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def defined(survey: str = "sv1", tenant: str = "acme") -> Envelope:
    questions = [
        Question(id="nps", type=QuestionType.NPS, text="Recommend us?"),
        Question(id="csat", type=QuestionType.CSAT, text="Satisfied?"),
        Question(id="pick", type=QuestionType.CHOICE, text="Which?", options=["a", "b"]),
    ]
    event = SurveyDefined(
        survey_id=survey,
        tenant_id=tenant,
        version=1,
        name="after the call",
        kind=SurveyKind.POST_CALL,
        questions=questions,
        defined_at=T0,
    )
    return wrap(event, source="/test", correlation_id="corr")


def answered(response: str, call: str | None, minute: int = 0, **answers: Any) -> Envelope:
    campaign = answers.pop("campaign", None)
    event = SurveyAnswered(
        response_id=response,
        tenant_id="acme",
        survey_id="sv1",
        version=1,
        call_id=call,
        campaign_id=campaign,
        answers=answers,
        segment={"region": "north"},
        answered_at=T0 + timedelta(minutes=minute),
    )
    return wrap(event, source="/test", correlation_id="corr")


def call(call_id: str, wait_s: float, agent: str, step: int, **more: Any) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "tenant_id": "acme",
        "agent_id": agent,
        "step": step,
        "received_at": T0,
        "connected_at": T0 + timedelta(seconds=wait_s),
    } | more


CALL_ROWS = [
    call("c1", 10, "a1", 0),
    call("c2", 45, "a1", 1, campaign_id="k-call"),
    call("c3", 200, "a2", 2, campaign_id="k-other"),
    call("cg", 5, "a9", 0, tenant_id="globex"),  # another tenant's call of that id
]
RESPONSES = [
    answered("r1", "c1", nps=10, csat=5, pick="a"),
    answered("r2", "c2", nps=6, csat=3),
    answered("r3", "c3", nps=9, csat=4, campaign="k-resp"),
    answered("r4", "c-unknown", nps=0),
    answered("r5", "cg", nps=8),
    answered("r6", None, minute=90, csat=1, campaign="k-resp"),
]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    table = Table(
        CALLS.name,
        MetaData(),
        *(Column(c.name, c.type, primary_key=c.name == "call_id") for c in CALLS.columns),
    )
    table.create(engine)
    columns = dict.fromkeys(c.name for c in CALLS.columns)
    with engine.begin() as connection:
        connection.execute(table.insert(), [columns | row for row in CALL_ROWS])
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> ProjectionStore:
    store = live_store(engine, SurveysProjection())
    store.apply(Batch([defined(), *RESPONSES], {(SURVEYS.base_name, 0): 7}))
    return store


def report(engine: Engine, *group_by: str, **changes: Any) -> list[dict[str, Any]]:
    query = SurveyQuery("sv1", "acme", None, None, group_by)
    return survey_report(engine, replace(query, **changes))


def figures(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["responses"], row["nps"], row["csat"], row["csat_mean"])


def test_nps_and_csat_by_wait_band(store: ProjectionStore, engine: Engine) -> None:
    rows = report(engine, "wait")
    assert {row["wait"]: figures(row) for row in rows} == {
        "0-20": (1, 100.0, 1.0, 5.0),
        "20-60": (1, -100.0, 0.0, 3.0),
        ">180": (1, 100.0, 1.0, 4.0),
        None: (3, -50.0, 0.0, 1.0),  # unknown call, another tenant's call, no call
    }


def test_by_agent_and_step(store: ProjectionStore, engine: Engine) -> None:
    rows = report(engine, "agent", "step")
    assert [(row["agent"], row["step"], row["responses"]) for row in rows] == [
        ("a1", 0, 1),
        ("a1", 1, 1),
        ("a2", 2, 1),
        (None, None, 3),
    ]


def test_the_response_s_campaign_before_the_call_s(store: ProjectionStore, engine: Engine) -> None:
    rows = report(engine, "campaign", "question")
    found = {(row["campaign"], row["question"]): row["responses"] for row in rows}
    assert found == {
        ("k-call", "nps"): 1,
        ("k-call", "csat"): 1,
        ("k-resp", "nps"): 1,
        ("k-resp", "csat"): 2,
        (None, "nps"): 3,
        (None, "csat"): 1,
        (None, "pick"): 1,
    }


def test_redelivery_counts_each_response_once(store: ProjectionStore, engine: Engine) -> None:
    store.apply(Batch([defined(), *RESPONSES[:3]], {(SURVEYS.base_name, 0): 11}))
    (row,) = report(engine)
    assert figures(row) == (6, 0.0, 0.5, 3.25)  # nps: 10 9 | 6 0 | 8; csat: 5 4 | 3 1


def test_time_range_and_tenant(store: ProjectionStore, engine: Engine) -> None:
    (late,) = report(engine, start=T0 + timedelta(hours=1))
    assert late["responses"] == 1
    assert report(engine, tenant_id="globex") == []
    assert survey_known(engine, "sv1", "acme")
    assert not survey_known(engine, "sv1", "globex")


@pytest.mark.parametrize(
    ("wait_s", "band"), [(0, "0-20"), (19.999, "0-20"), (20, "20-60"), (180, ">180")]
)
def test_wait_bands_include_their_lower_bound(wait_s: float, band: str) -> None:
    assert wait_band(T0, T0 + timedelta(seconds=wait_s)) == band
    assert wait_band(T0, None) is None
