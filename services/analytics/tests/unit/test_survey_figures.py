"""NPS and CSAT by the formulas of the brief, checked against counts worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest
from analytics.survey_path import PathAnswer
from analytics.survey_queries import figures, group_keys


def answer(response: str, kind: str, score: float, **segment: Any) -> PathAnswer:
    return PathAnswer(response, kind, kind, score, segment)


@pytest.mark.parametrize(
    ("scores", "nps"),
    [
        ([10, 9, 8, 7, 6, 0], 0.0),  # 2 promoters, 2 detractors of 6
        ([10, 10, 9, 0], 50.0),  # (3 - 1) / 4
        ([6, 5, 0], -100.0),
        ([9, 10], 100.0),
        ([8, 7], 0.0),  # passives only
        ([10, 8, 8], 33.33),  # 1 / 3, rounded to 2 decimals
    ],
)
def test_nps_is_promoters_minus_detractors_in_percent(scores: list[int], nps: float) -> None:
    answers = [answer(f"r{i}", "nps", s) for i, s in enumerate(scores)]
    assert figures(answers)["nps"] == nps


def test_csat_is_the_share_of_4_and_5_and_its_mean() -> None:
    answers = [answer(f"r{i}", "csat", s) for i, s in enumerate([5, 4, 3, 1])]
    result = figures(answers)
    assert (result["csat"], result["csat_mean"], result["csat_answers"]) == (0.5, 3.25, 4)


def test_a_figure_without_answers_is_null_and_responses_are_distinct() -> None:
    answers = [answer("r1", "csat", 4), answer("r1", "rating", 3)]
    result = figures(answers)
    assert (result["nps"], result["responses"]) == (None, 1)


def test_a_list_valued_attribute_puts_the_response_in_each_of_its_groups() -> None:
    bought = answer("r1", "nps", 10, products=["fiber", "tv", "fiber"], region="north")
    assert list(group_keys(bought, ("segment.products", "segment.region"))) == [
        ("fiber", "north"),
        ("tv", "north"),
    ]
    assert list(group_keys(answer("r2", "nps", 1), ("segment.region",))) == [(None,)]
