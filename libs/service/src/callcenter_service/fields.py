"""Field types the services' APIs share, so that every API checks them the same way."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StringConstraints

E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{1,14}$")]
"""A phone number in E.164: `+`, country code, number; at most 15 digits."""

LanguageTag = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", max_length=35)
]
"""A BCP 47 language tag such as `de` or `de-AT`."""


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone such as 'Europe/Berlin'") from None
    return name


TimeZoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known_zone)]
"""An IANA time zone name such as `Europe/Berlin`."""

SkillName = Annotated[
    str, StringConstraints(pattern=r"^[a-z]+:[A-Za-z0-9_.-]{1,64}$|^[a-z_]{1,64}$")
]
"""A skill: `lang:de`, `topic:billing`, `tenant:<id>`, or a plain name such as `campaign`."""

SkillLevel = Annotated[int, Field(ge=1, le=10)]
"""A skill's level: 1 (basic) to 10 (expert)."""

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
"""An id chosen by a client: lower-case letters, digits, `_`, `.`, `-`; at most 64."""
