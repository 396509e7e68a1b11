"""A response is checked against its survey version, and every problem names its question."""

from __future__ import annotations

from typing import Any

import pytest
from callcenter_events.models import Question
from hypothesis import given
from hypothesis import strategies as st
from surveys.answers import check_answers

QUESTIONS = [
    Question(id="nps", type="nps", text="Recommend us?", required=True),
    Question(id="csat", type="csat", text="Satisfied?"),
    Question(id="price", type="rating", text="Price?", scale={"min": 1, "max": 7}),
    Question(id="pack", type="choice", text="Packaging?", options=["good", "bad"]),
    Question(id="seen", type="multi_choice", text="Seen where?", options=["tv", "web", "shop"]),
    Question(id="again", type="yes_no", text="Buy again?"),
    Question(id="why", type="text", text="Why?"),
]


def test_a_complete_valid_response_splits_scores_from_free_text() -> None:
    answers = {"nps": 9, "csat": 4, "price": 7, "pack": "good", "seen": ["tv", "web"]}
    checked = check_answers(QUESTIONS, answers | {"again": False, "why": "Friendly agent"})
    assert checked.problems == []
    assert checked.scores == answers | {"again": False}
    assert checked.texts == {"why": "Friendly agent"}


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({"nps": 11}, "nps: must be a whole number from 0 to 10"),
        ({"nps": True}, "nps: must be a whole number from 0 to 10"),
        ({"nps": 9.5}, "nps: must be a whole number from 0 to 10"),
        ({}, "nps: an answer is required"),
        ({"nps": 5, "csat": 0}, "csat: must be a whole number from 1 to 5"),
        ({"nps": 5, "price": 8}, "price: must be a whole number from 1 to 7"),
        ({"nps": 5, "pack": "ugly"}, "pack: must be one of good, bad"),
        ({"nps": 5, "seen": []}, "seen: must be a non-empty list"),
        ({"nps": 5, "seen": ["tv", "tv"]}, "seen: must be a non-empty list"),
        ({"nps": 5, "again": "yes"}, "again: must be true or false"),
        ({"nps": 5, "why": ""}, "why: must be text of 1 to 2000 characters"),
        ({"nps": 5, "mood": 3}, "mood: the survey has no such question"),
    ],
)
def test_each_problem_names_its_question(answers: dict[str, Any], problem: str) -> None:
    problems = check_answers(QUESTIONS, answers).problems
    assert len(problems) == 1
    assert problems[0].startswith(problem)


@given(st.integers(min_value=-1000, max_value=1000))
def test_an_nps_is_accepted_exactly_from_0_to_10(score: int) -> None:
    problems = check_answers(QUESTIONS, {"nps": score}).problems
    assert (problems == []) == (0 <= score <= 10)


@given(st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(), st.booleans())))
def test_no_input_breaks_the_check(answers: dict[str, Any]) -> None:
    checked = check_answers(QUESTIONS, answers)
    accepted = set(checked.scores) | set(checked.texts)
    assert accepted <= {q.id for q in QUESTIONS}
    for name in answers:
        named = any(problem.startswith(f"{name}: ") for problem in checked.problems)
        assert (name in accepted) != named, "each answer is taken or named in a problem"


def test_questions_are_checked_when_the_survey_is_defined() -> None:
    with pytest.raises(ValueError, match="options"):
        Question(id="pack", type="choice", text="Packaging?")
    with pytest.raises(ValueError, match="scale"):
        Question(id="price", type="rating", text="Price?")
    with pytest.raises(ValueError, match="below"):
        Question(id="price", type="rating", text="Price?", scale={"min": 5, "max": 5})
