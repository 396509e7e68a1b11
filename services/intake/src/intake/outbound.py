"""Outbound campaign calls: the dialer's requests (surveys topic) become intake's calls.

Intake owns the calls topic, so a campaign call starts here like any other: `call.received`
with direction `outbound`, the customer's sealed reference as the request carried it, the
number sealed again for the field that holds it here (a sealed value opens only for its
field), under the same subject; routing asks for the skill `campaign`. A number erased since
the request places no call. The call id is the request's; the event id
follows from it, so a repeated request (or a repeated delivery) yields one call.
"""

from __future__ import annotations

import uuid

import structlog
from callcenter_events import Batch, Envelope, utc_now, wrap
from callcenter_events.models import CallReceived, Direction, OutboundCallRequested
from callcenter_events.privacy import Vault
from callcenter_events.privacy.sealing import is_sealed, subject_of
from callcenter_events.publisher import EventPublisher
from callcenter_events.store import in_db_thread
from prometheus_client import Counter

from intake.callstore import CallStore
from intake.publishing import SOURCE

log = structlog.get_logger(__name__)
TYPES = frozenset({"outbound_call.requested"})
CAMPAIGN_TOPIC = "campaign"
DIALED = Counter("callcenter_intake_outbound_calls_total", "Campaign calls started by intake")


class OutboundDialing:
    def __init__(self, calls: CallStore, producer: EventPublisher, vault: Vault) -> None:
        self._calls = calls
        self._producer = producer
        self._vault = vault

    async def handle(self, batch: Batch) -> None:
        started = [
            received
            for envelope in batch.envelopes
            if isinstance(envelope.data, OutboundCallRequested)
            and not await self._known(envelope.data.call_id)
            and (received := await self._received(envelope)) is not None
        ]
        if started:
            await self._producer.publish_all(started)
            DIALED.inc(len(started))

    async def _known(self, call_id: str) -> bool:
        engine = self._calls.engine
        return await in_db_thread(engine, self._calls.get, call_id) is not None

    async def _received(self, envelope: Envelope) -> Envelope | None:
        request = envelope.data
        assert isinstance(request, OutboundCallRequested)
        phone = await self._vault.reveal(request.phone, "phone")
        subject_id = subject_of(request.phone) if is_sealed(request.phone) else None
        if phone is None or subject_id is None:
            log.info("outbound_call_skipped", call_id=request.call_id, reason="number erased")
            return None
        sealed = await self._vault.seal_value(subject_id, "caller_phone", phone)
        return None if sealed is None else _received(envelope, request, sealed)


def _received(envelope: Envelope, request: OutboundCallRequested, caller_phone: str) -> Envelope:
    event = CallReceived(
        call_id=request.call_id,
        tenant_id=request.tenant_id,
        direction=Direction.OUTBOUND,
        caller_phone=caller_phone,
        customer_ref=request.customer_ref,
        language=request.language,
        topic=CAMPAIGN_TOPIC,
        received_at=utc_now(),
    )
    return wrap(
        event,
        source=SOURCE,
        correlation_id=envelope.correlation_id,
        causation_id=envelope.id,
        event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"callcenter:{request.call_id}/received")),
        data_subject=envelope.data_subject,
    )
