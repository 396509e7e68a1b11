"""The request and answer bodies of the surveys API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callcenter_events.models import Question, SurveyKind
from pydantic import BaseModel, ConfigDict, Field, JsonValue

EXAMPLE_QUESTIONS: list[JsonValue] = [
    {"id": "nps", "type": "nps", "text": "How likely are you to recommend us?", "required": True},
    {"id": "price", "type": "rating", "text": "The price?", "scale": {"min": 1, "max": 5}},
    {"id": "packaging", "type": "choice", "text": "The packaging?", "options": ["good", "bad"]},
    {"id": "comment", "type": "text", "text": "Anything else?"},
]


EXAMPLE_SURVEY: dict[str, JsonValue] = {
    "name": "After the call",
    "kind": "post_call",
    "questions": EXAMPLE_QUESTIONS,
}


class SurveyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "After the call", "kind": "post_call", "questions": EXAMPLE_QUESTIONS}
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200)
    kind: SurveyKind
    questions: list[Question] = Field(min_length=1, max_length=50)
    tenant_id: str | None = Field(None, description="The operator names the tenant")


class SurveyCreated(BaseModel):
    survey_id: str
    version: int
    position: str


class SurveyView(BaseModel):
    survey_id: str
    tenant_id: str
    version: int
    name: str
    kind: SurveyKind
    questions: list[Question]
    defined_at: datetime


class ResponseCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"call_id": "oc-4c1d9e...", "answers": {"nps": 9, "price": 4}},
                {"invitation_id": "inv-7a2b...", "answers": {"csat": 5, "comment": "Quick help"}},
                {"customer_ref": "crm-88121", "answers": {"nps": 10}},
            ]
        },
    )

    call_id: str | None = Field(None, max_length=64)
    customer_ref: str | None = Field(None, min_length=1, max_length=128)
    invitation_id: str | None = Field(None, max_length=64)
    answers: dict[str, Any] = Field(max_length=50, description="{question id: answer}")


class ResponseCreated(BaseModel):
    response_id: str
    survey_id: str
    version: int
    position: str
