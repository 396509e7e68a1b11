"""Surveys and their responses: owned by surveys, on the surveys topic.

A survey is versioned: editing it defines a new version, and a response names the version it
answered. Free-text answers are personal (people write their names, numbers, stories into
them): they travel sealed, as one JSON object of {question id: text}, under the respondent's
subject. Scores and choices are not personal and stay in clear for every aggregate.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from callcenter_events.models.customers import SegmentValue
from callcenter_events.personal import PersonalStr
from callcenter_events.registry import REGISTRY, Event
from callcenter_events.topics import SURVEYS

AnswerValue = int | float | bool | str | list[str]


class QuestionType(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    RATING = "rating"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    YES_NO = "yes_no"
    TEXT = "text"


class SurveyKind(StrEnum):
    POST_CALL = "post_call"
    CAMPAIGN = "campaign"


class Scale(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min: int = Field(ge=-100, le=100)
    max: int = Field(ge=-100, le=100)

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.min >= self.max:
            raise ValueError("scale.min must be below scale.max")
        return self


class Question(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    type: QuestionType
    text: str = Field(min_length=1, max_length=500)
    required: bool = False
    options: list[str] | None = Field(None, min_length=2, max_length=50)
    scale: Scale | None = None
    topic: str | None = Field(
        None, max_length=40, description="What it asks about: company, product, price, ..."
    )

    @model_validator(mode="after")
    def _complete(self) -> Question:
        choice = self.type in (QuestionType.CHOICE, QuestionType.MULTI_CHOICE)
        if choice != (self.options is not None):
            raise ValueError("choice questions need `options`; other types take none")
        if (self.type is QuestionType.RATING) != (self.scale is not None):
            raise ValueError("rating questions need a `scale`; other types take none")
        if self.options is not None and len(set(self.options)) != len(self.options):
            raise ValueError("options must be distinct")
        return self


@REGISTRY.register("survey.defined", version=1, topic=SURVEYS, key="tenant_id", owner="surveys")
class SurveyDefined(Event):
    """A survey, or a new version of it."""

    survey_id: str
    tenant_id: str
    version: int = Field(ge=1)
    name: str
    kind: SurveyKind
    questions: list[Question]
    defined_at: datetime


@REGISTRY.register("survey.answered", version=1, topic=SURVEYS, key="tenant_id", owner="surveys")
class SurveyAnswered(Event):
    """A validated response to one version of a survey."""

    response_id: str
    tenant_id: str
    survey_id: str
    version: int
    call_id: str | None = None
    customer_ref: PersonalStr | None = None
    campaign_id: str | None = Field(None, description="The campaign whose call it answered")
    invitation_id: str | None = Field(None, description="The post-call invitation it answers")
    answers: dict[str, AnswerValue] = Field(description="Scores and choices; no free text")
    text_answers: PersonalStr | None = Field(
        None, description="Sealed JSON object {question id: text}"
    )
    segment: dict[str, SegmentValue] = Field(
        default_factory=dict, description="The customer's target group when they answered"
    )
    answered_at: datetime
