"""Surveys follows the calls: a completed inbound call invites its caller to a post-call survey.

The tenant's setting `post_call_survey_id` names the survey. The invitation (`survey.invited`)
is sealed for the caller's data subject and its id follows from the call, so a repeated delivery
of the call's wrap-up invites once. A call is known as inbound from its `call.received`, which
precedes its wrap-up on the same partition.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from callcenter_events import Batch, Envelope, wrap
from callcenter_events.models import CallReceived, CallWrappedUp, Direction, SurveyInvited
from callcenter_events.publisher import EventPublisher
from callcenter_events.store import in_db_thread, insert_new
from callcenter_service.directory import TenantDirectory
from prometheus_client import Counter as MetricCounter
from sqlalchemy import Engine
from sqlmodel import Field, Session, SQLModel

from surveys.surveystore import latest_version

log = structlog.get_logger(__name__)
SOURCE = "/callcenter/surveys"
CALL_EVENTS_SEEN = MetricCounter(
    "callcenter_surveys_call_events_total", "Call events seen by surveys", ["type"]
)
INVITED = MetricCounter("callcenter_surveys_invitations_total", "Post-call survey invitations")


class FollowedCall(SQLModel, table=True):
    __tablename__ = "surveys_followed_calls"

    call_id: str = Field(primary_key=True)
    tenant_id: str
    inbound: bool
    data_subject: str | None = None


_FOLLOWED: Any = FollowedCall.__table__  # type: ignore[attr-defined]


def invitation_id_of(call_id: str) -> str:
    return f"inv-{hashlib.sha256(call_id.encode()).hexdigest()[:24]}"


class CallFollower:
    def __init__(
        self, engine: Engine, tenants: Callable[[], TenantDirectory], producer: EventPublisher
    ) -> None:
        self._engine = engine
        self._tenants = tenants
        self._producer = producer
        self.seen: Counter[str] = Counter()

    def create_tables(self) -> None:
        SQLModel.metadata.create_all(self._engine, tables=[_FOLLOWED])

    async def handle(self, batch: Batch) -> None:
        for envelope in batch.envelopes:
            self.seen[envelope.type] += 1
            CALL_EVENTS_SEEN.labels(envelope.type).inc()
        received = [_followed(e) for e in batch.envelopes if isinstance(e.data, CallReceived)]
        if received:
            await in_db_thread(self._engine, self._remember, received)
        invitations = [
            invitation
            for envelope in batch.envelopes
            if isinstance(envelope.data, CallWrappedUp)
            and (invitation := await in_db_thread(self._engine, self._invitation, envelope))
        ]
        if invitations:
            await self._producer.publish_all(invitations)
            INVITED.inc(len(invitations))

    def _remember(self, rows: Sequence[dict[str, Any]]) -> None:
        with Session(self._engine) as session:
            insert_new(session, _FOLLOWED, rows)
            session.commit()

    def _invitation(self, envelope: Envelope) -> Envelope | None:
        wrapped = envelope.data
        assert isinstance(wrapped, CallWrappedUp)
        tenant = self._tenants().tenants.get(wrapped.tenant_id)
        survey_id = tenant.settings.post_call_survey_id if tenant else None
        if survey_id is None:
            return None
        with Session(self._engine) as session:
            call = session.get(FollowedCall, wrapped.call_id)
        if call is None or not call.inbound:
            return None
        survey = latest_version(self._engine, survey_id)
        if survey is None or survey.tenant_id != wrapped.tenant_id:
            log.warning("post_call_survey_unknown", tenant=wrapped.tenant_id, survey=survey_id)
            return None
        event = SurveyInvited(
            invitation_id=invitation_id_of(wrapped.call_id),
            tenant_id=wrapped.tenant_id,
            survey_id=survey_id,
            version=survey.version,
            call_id=wrapped.call_id,
            invited_at=wrapped.wrapped_up_at,
        )
        return wrap(
            event,
            source=SOURCE,
            correlation_id=envelope.correlation_id,
            causation_id=envelope.id,
            event_id=event.invitation_id,
            data_subject=call.data_subject,
        )


def _followed(envelope: Envelope) -> dict[str, Any]:
    call = envelope.data
    assert isinstance(call, CallReceived)
    return {
        "call_id": call.call_id,
        "tenant_id": call.tenant_id,
        "inbound": call.direction is Direction.INBOUND,
        "data_subject": envelope.data_subject,
    }
