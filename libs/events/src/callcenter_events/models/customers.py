"""A tenant's known customers and their consent to marketing calls: owned by surveys.

The customer reference, phone number and name are personal and travel sealed: the reference and
name under the customer's subject, the number under the subject of whoever has that number (so
erasing a caller by number reaches it too). Segment attributes are coarse target-group values
(age band, region, products bought): they are not sealed, so every aggregate by target group
stays exact after an erasure. Tenants must not put identifying data into segments.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from callcenter_events.personal import PersonalStr
from callcenter_events.registry import REGISTRY, Event
from callcenter_events.topics import SURVEYS

SegmentValue = str | int | float | bool | list[str]


@REGISTRY.register("customer.updated", version=1, topic=SURVEYS, key="tenant_id", owner="surveys")
class CustomerUpdated(Event):
    """A customer was created or replaced by `PUT /v1/customers/{customer_ref}`."""

    tenant_id: str
    customer_ref: PersonalStr
    phone: PersonalStr
    name: PersonalStr | None = None
    language: str
    timezone: str
    segment: dict[str, SegmentValue] = Field(default_factory=dict)
    updated_at: datetime


class ConsentChange(Event):
    """Consent to a purpose given or withdrawn, with its provenance: the proof a regulator asks."""

    tenant_id: str
    customer_ref: PersonalStr
    purpose: str = Field(description="`marketing_calls`")
    source: str = Field(description="Where the consent was given or withdrawn, e.g. `web-form`")
    wording: str | None = Field(None, description="The text the customer agreed to")
    campaign_id: str | None = None
    at: datetime = Field(description="When the customer gave or withdrew it")
    recorded_at: datetime
    recorded_by: str = Field(description="`operator` or the API key id that reported it")


@REGISTRY.register("consent.given", version=1, topic=SURVEYS, key="tenant_id", owner="surveys")
class ConsentGiven(ConsentChange):
    """The customer agreed to the purpose."""


@REGISTRY.register("consent.withdrawn", version=1, topic=SURVEYS, key="tenant_id", owner="surveys")
class ConsentWithdrawn(ConsentChange):
    """The customer withdrew the consent: no further calls for the purpose, from now on."""
