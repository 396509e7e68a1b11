"""Marks the fields of an event model that hold personal data.

Personal data (phone numbers, names, free text) must be protectable later (encryption per data
subject, erasure). Marking it in the model keeps the knowledge in one place: the codec, the
protection layer and the docs can all ask which fields of an event are personal.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import BaseModel, Field

PERSONAL: Final = "personal"

PersonalStr = Annotated[str, Field(json_schema_extra={PERSONAL: True})]
"""A string field holding personal data."""


def personal_fields(model: type[BaseModel]) -> frozenset[str]:
    """The names of the fields of `model` that are marked as personal data."""
    return frozenset(
        name
        for name, info in model.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get(PERSONAL)
    )
