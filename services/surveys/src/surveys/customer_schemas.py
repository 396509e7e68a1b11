"""The request and answer bodies of the customers API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from callcenter_events.models.customers import SegmentValue
from callcenter_service.fields import E164, LanguageTag, TimeZoneName
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

SegmentName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]
CLOCK_SKEW = timedelta(minutes=5)  # a client's clock a little ahead is not an error
CustomerRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]


class ConsentStatement(BaseModel):
    """Consent (or its withdrawal) to marketing calls, with where and when it was given."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"marketing_calls": True, "source": "web-form", "at": "2026-03-01T10:00:00Z"}
            ]
        },
    )

    marketing_calls: bool
    source: Text = Field(description="Where it was given or withdrawn, e.g. `web-form`, `call`")
    at: AwareDatetime = Field(description="When the customer gave or withdrew it (with offset)")
    wording: Annotated[str, StringConstraints(max_length=2000)] | None = Field(
        None, description="The text the customer agreed to"
    )
    campaign_id: Text | None = None

    @field_validator("at")
    @classmethod
    def _not_ahead(cls, at: datetime) -> datetime:
        if at > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("a statement cannot be dated in the future")
        return at


class CustomerPut(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,  # a lenient JSON parse takes NaN; an event cannot hold it
        json_schema_extra={
            "examples": [
                {
                    "phone": "+4930123456",
                    "language": "de",
                    "timezone": "Europe/Berlin",
                    "segment": {"age_band": "30-39", "region": "north", "products": ["dsl"]},
                    "consent": {
                        "marketing_calls": True,
                        "source": "web-form",
                        "at": "2026-03-01T10:00:00Z",
                    },
                }
            ]
        },
    )

    phone: E164
    language: LanguageTag
    timezone: TimeZoneName = Field(description="IANA time zone, e.g. Europe/Berlin")
    name: Text | None = Field(None, description="Personal: erased with the customer")
    segment: dict[SegmentName, SegmentValue] = Field(
        default_factory=dict,
        max_length=50,
        description="Target-group attributes (age band, region, products bought); not for "
        "identifying data, as they stay in aggregates after an erasure",
    )
    consent: ConsentStatement | None = None


class Written(BaseModel):
    customer_ref: str
    position: str


class ConsentView(BaseModel):
    marketing_calls: bool | None = Field(description="null: never asked")


class CustomerView(BaseModel):
    customer_ref: str
    tenant_id: str
    phone: str | None = Field(description="null once the number is erased")
    name: str | None
    language: str
    timezone: str
    segment: dict[str, SegmentValue]
    consent: ConsentView
    updated_at: datetime


class ConsentRecord(BaseModel):
    marketing_calls: bool
    purpose: str
    source: str
    at: datetime
    wording: str | None
    campaign_id: str | None
    recorded_at: datetime
    recorded_by: str
    event_id: str
    position: str


class ConsentHistory(BaseModel):
    customer_ref: str
    current: bool | None = Field(description="The latest statement; null when there is none")
    history: list[ConsentRecord] = Field(description="Oldest first, as recorded")


class CustomerErasure(BaseModel):
    erasure_id: str
    subjects: int = Field(description="How many keys were destroyed (customer and number)")
    position: str
