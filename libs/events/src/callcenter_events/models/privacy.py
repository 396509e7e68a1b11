"""Erasures (GDPR Art. 17): the history of who was erased, with no personal data in it.

An erasure names the pseudonymous subject ids whose keys are destroyed. Every service that
holds copies of those subjects' data blanks them when it reads the event, also in a replay.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from callcenter_events.registry import REGISTRY, Event
from callcenter_events.topics import PRIVACY


class SubjectsErased(Event):
    """The common shape of an erasure: which subjects, for which tenant, when and on whose word."""

    erasure_id: str
    tenant_id: str
    subject_ids: list[str] = Field(default_factory=list)
    requested_by: str = Field(description="`operator`, or the API key id that asked")
    erased_at: datetime


@REGISTRY.register("caller.erased", version=1, topic=PRIVACY, key="tenant_id", owner="intake")
class CallerErased(SubjectsErased):
    """A caller known by phone number was erased (operator request to intake)."""


@REGISTRY.register("customer.erased", version=1, topic=PRIVACY, key="tenant_id", owner="surveys")
class CustomerErased(SubjectsErased):
    """A tenant's customer was erased (`DELETE /v1/customers/{customer_ref}` on surveys)."""
