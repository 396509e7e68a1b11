"""The sealed events of a customer write: what `PUT /v1/customers/{ref}` and the import publish.

The reference and name are sealed under the customer's subject, the number under the subject of
whoever has that number (so erasing a caller by number reaches it too). A consent statement
becomes an event only when it changes the customer's current consent, so writing the same
customer again adds nothing to the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

from callcenter_events import Envelope, Event, utc_now, wrap
from callcenter_events.models import ConsentGiven, ConsentWithdrawn, CustomerUpdated
from callcenter_events.privacy import SubjectRef, Vault
from callcenter_service import Principal
from callcenter_service.correlation import current_correlation_id

from surveys.customer_schemas import ConsentStatement, CustomerPut

SOURCE = "/callcenter/surveys"


def recorded_by(caller: Principal) -> str:
    """Who a ledger line names: the API key, or the operator."""
    return caller.key_id or "operator"


def envelope_of(event: Event, subject: str | None, *, event_id: str | None = None) -> Envelope:
    return wrap(
        event,
        source=SOURCE,
        correlation_id=current_correlation_id(),
        data_subject=subject,
        event_id=event_id,
    )


def changes_consent(current: bool | None, statement: ConsentStatement | None) -> bool:
    """Whether a statement changes the consent (`current` None: never asked, or a new customer)."""
    return statement is not None and current != statement.marketing_calls


@dataclass(frozen=True, slots=True)
class CustomerWriter:
    """Builds the sealed envelopes of one tenant's customer writes, on behalf of one caller."""

    vault: Vault
    tenant_id: str
    recorded_by: str

    async def customer(
        self, ref: str, body: CustomerPut, *, current_consent: bool | None
    ) -> list[Envelope]:
        """`customer.updated`, then the consent event if the statement changes the consent."""
        event = CustomerUpdated(
            tenant_id=self.tenant_id,
            customer_ref=ref,
            phone=body.phone,
            name=body.name,
            language=body.language,
            timezone=body.timezone,
            segment=body.segment,
            updated_at=utc_now(),
        )
        phone = SubjectRef(self.tenant_id, "phone", body.phone)
        sealed, subject_id = await self.vault.seal_event(
            event, self._customer(ref), overrides={"phone": phone}
        )
        envelopes = [envelope_of(sealed, subject_id)]
        if body.consent is not None and changes_consent(current_consent, body.consent):
            envelopes.append(await self.consent(ref, body.consent))
        return envelopes

    async def consent(
        self, ref: str, statement: ConsentStatement, *, event_id: str | None = None
    ) -> Envelope:
        """`consent.given` or `consent.withdrawn`, sealed under the customer's subject."""
        kind = ConsentGiven if statement.marketing_calls else ConsentWithdrawn
        event = kind(
            tenant_id=self.tenant_id,
            customer_ref=ref,
            purpose="marketing_calls",
            source=statement.source,
            wording=statement.wording,
            campaign_id=statement.campaign_id,
            at=statement.at,
            recorded_at=utc_now(),
            recorded_by=self.recorded_by,
        )
        sealed, subject_id = await self.vault.seal_event(event, self._customer(ref))
        return envelope_of(sealed, subject_id, event_id=event_id)

    def _customer(self, ref: str) -> SubjectRef:
        return SubjectRef(self.tenant_id, "customer", ref)
