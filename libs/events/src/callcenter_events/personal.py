"""Marks the fields of an event model that hold personal data.

Personal data (phone numbers, names, free text) must be protectable later (encryption per data
subject, erasure). Marking it in the model keeps the knowledge in one place: the codec, the
protection layer and the docs can all ask which fields of an event are personal. The mark also
shows in the JSON schema as `"x-personal": true`.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Final, get_args, get_origin

from pydantic import BaseModel, Field


class _PersonalData:
    def __repr__(self) -> str:
        return "PERSONAL"


PERSONAL: Final = _PersonalData()

PersonalStr = Annotated[str, PERSONAL, Field(json_schema_extra={"x-personal": True})]
"""A string field holding personal data."""


@cache
def personal_fields(model: type[BaseModel]) -> frozenset[str]:
    """The names of the fields of `model` that are marked as personal data."""
    return frozenset(
        name
        for name, info in model.model_fields.items()
        if PERSONAL in info.metadata or _marked(info.annotation)
    )


def _marked(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated:
        return PERSONAL in annotation.__metadata__
    return any(_marked(arg) for arg in get_args(annotation))
