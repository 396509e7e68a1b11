"""Checking a response against the survey version it answers (pure: no I/O).

Every problem names its question, so a client can show it next to the field: an NPS of 11,
an option that does not exist, a required question left out, a question the survey lacks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from callcenter_events.models import Question, QuestionType
from callcenter_events.models.surveys import AnswerValue

MAX_TEXT = 2000


@dataclass
class CheckedAnswers:
    """The answers split into scores/choices (clear) and free text (to be sealed)."""

    scores: dict[str, AnswerValue] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def check_answers(questions: Sequence[Question], answers: Mapping[str, Any]) -> CheckedAnswers:
    checked = CheckedAnswers()
    known = {question.id for question in questions}
    checked.problems += [
        f"{name}: the survey has no such question" for name in answers if name not in known
    ]
    for question in questions:
        value = answers.get(question.id)
        if value is None:
            if question.required:
                checked.problems.append(f"{question.id}: an answer is required")
            continue
        problem = _problem(question, value)
        if problem:
            checked.problems.append(f"{question.id}: {problem}")
        elif question.type is QuestionType.TEXT:
            checked.texts[question.id] = value
        else:
            checked.scores[question.id] = value
    return checked


def _integer_in(low: int, high: int) -> Callable[[Question, Any], str | None]:
    def check(_question: Question, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"must be a whole number from {low} to {high}"
        return None

    return check


def _rating(question: Question, value: Any) -> str | None:
    assert question.scale is not None
    return _integer_in(question.scale.min, question.scale.max)(question, value)


def _choice(question: Question, value: Any) -> str | None:
    if not isinstance(value, str) or value not in (question.options or ()):
        return f"must be one of {', '.join(question.options or ())}"
    return None


def _multi_choice(question: Question, value: Any) -> str | None:
    options = question.options or ()
    if (
        not isinstance(value, list)
        or not value
        or len(set(value)) != len(value)
        or any(not isinstance(item, str) or item not in options for item in value)
    ):
        return f"must be a non-empty list of distinct options from {', '.join(options)}"
    return None


def _yes_no(_question: Question, value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _text(_question: Question, value: Any) -> str | None:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TEXT:
        return f"must be text of 1 to {MAX_TEXT} characters"
    return None


_CHECKS: dict[QuestionType, Callable[[Question, Any], str | None]] = {
    QuestionType.NPS: _integer_in(0, 10),
    QuestionType.CSAT: _integer_in(1, 5),
    QuestionType.RATING: _rating,
    QuestionType.CHOICE: _choice,
    QuestionType.MULTI_CHOICE: _multi_choice,
    QuestionType.YES_NO: _yes_no,
    QuestionType.TEXT: _text,
}


def _problem(question: Question, value: Any) -> str | None:
    return _CHECKS[question.type](question, value)
