"""Surveys' view of the tenants' customers and their consent ledger, a projection of the log.

Rows are keyed by the customer's pseudonymous subject id, never by the reference itself: the
reference, number and name are stored sealed as the events carried them and opened on read.
An erasure blanks them and marks the customer erased; a replay that meets the customer's
events after the erasure (another topic read first) keeps none of their data either.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from callcenter_events import Envelope
from callcenter_events.models import (
    ConsentChange,
    ConsentGiven,
    CustomerUpdated,
    SubjectsErased,
)
from callcenter_events.privacy.sealing import is_sealed, subject_of
from callcenter_events.store import upsert
from callcenter_events.topics import PRIVACY, SURVEYS, Topic
from sqlalchemy import JSON, Column, Engine, update
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel, col, select


class Customer(SQLModel, table=True):
    __tablename__ = "surveys_customers"

    tenant_id: str = Field(primary_key=True)
    subject_id: str = Field(primary_key=True)
    customer_ref: str | None = None
    phone: str | None = None
    phone_subject: str | None = Field(default=None, index=True)
    name: str | None = None
    language: str
    timezone: str
    segment: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    marketing_consent: bool | None = None
    erased: bool = False
    updated_at: datetime


class ConsentEntry(SQLModel, table=True):
    """One line of the consent ledger; no personal data but the subject id."""

    __tablename__ = "surveys_consent_ledger"

    event_id: str = Field(primary_key=True)
    tenant_id: str = Field(index=True)
    subject_id: str = Field(index=True)
    purpose: str
    granted: bool
    source: str
    wording: str | None = None
    campaign_id: str | None = None
    at: datetime
    recorded_at: datetime
    recorded_by: str
    position: str


class ErasedSubject(SQLModel, table=True):
    __tablename__ = "surveys_erased_subjects"

    subject_id: str = Field(primary_key=True)


_CUSTOMERS: Any = Customer.__table__  # type: ignore[attr-defined]
_LEDGER: Any = ConsentEntry.__table__  # type: ignore[attr-defined]
_ERASED: Any = ErasedSubject.__table__  # type: ignore[attr-defined]
TYPES = frozenset(
    {"customer.updated", "consent.given", "consent.withdrawn", "caller.erased", "customer.erased"}
)


class CustomerProjection:
    name: str = "surveys_customers"
    version: int = 1
    types: frozenset[str] = TYPES
    topics: tuple[Topic, ...] = (SURVEYS, PRIVACY)

    def create_tables(self, engine: Engine) -> None:
        SQLModel.metadata.create_all(engine, tables=[_CUSTOMERS, _LEDGER, _ERASED])

    def apply(self, session: Session, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            data = envelope.data
            if isinstance(data, CustomerUpdated) and envelope.data_subject:
                _update_customer(session, envelope.data_subject, data)
            elif isinstance(data, ConsentChange) and envelope.data_subject:
                _record_consent(session, envelope, data)
            elif isinstance(data, SubjectsErased):
                _erase(session, data.subject_ids)


def _erased(session: Session, subject_ids: set[str]) -> set[str]:
    found = session.execute(
        sa_select(_ERASED.c.subject_id).where(_ERASED.c.subject_id.in_(subject_ids))
    )
    return set(found.scalars())


def _update_customer(session: Session, subject_id: str, event: CustomerUpdated) -> None:
    phone_subject = subject_of(event.phone) if is_sealed(event.phone) else None
    gone = _erased(session, {subject_id, *filter(None, [phone_subject])})
    row = {
        "tenant_id": event.tenant_id,
        "subject_id": subject_id,
        "customer_ref": None if subject_id in gone else event.customer_ref,
        "name": None if subject_id in gone else event.name,
        "phone": None if phone_subject in gone or subject_id in gone else event.phone,
        "phone_subject": phone_subject,
        "language": event.language,
        "timezone": event.timezone,
        "segment": event.segment,
        "erased": subject_id in gone,
        "updated_at": event.updated_at,
    }
    replace = [k for k in row if k not in ("tenant_id", "subject_id")]
    upsert(session, _CUSTOMERS, [row], keys=["tenant_id", "subject_id"], replace=replace)


def _record_consent(session: Session, envelope: Envelope, event: ConsentChange) -> None:
    subject_id = envelope.data_subject
    entry = {
        "event_id": envelope.id,
        "tenant_id": event.tenant_id,
        "subject_id": subject_id,
        "purpose": event.purpose,
        "granted": isinstance(event, ConsentGiven),
        "source": event.source,
        "wording": event.wording,
        "campaign_id": event.campaign_id,
        "at": event.at,
        "recorded_at": event.recorded_at,
        "recorded_by": event.recorded_by,
        "position": str(envelope.position) if envelope.position else "",
    }
    upsert(session, _LEDGER, [entry], keys=["event_id"])
    latest = session.exec(
        select(ConsentEntry)
        .where(col(ConsentEntry.subject_id) == subject_id)
        .where(col(ConsentEntry.purpose) == event.purpose)
        .order_by(col(ConsentEntry.at).desc(), col(ConsentEntry.recorded_at).desc())
        .limit(1)
    ).first()
    if latest is not None:
        session.execute(
            update(_CUSTOMERS)
            .where(_CUSTOMERS.c.subject_id == subject_id)
            .values(marketing_consent=latest.granted)
        )


def _erase(session: Session, subject_ids: list[str]) -> None:
    if not subject_ids:
        return
    upsert(session, _ERASED, [{"subject_id": s} for s in subject_ids], keys=["subject_id"])
    session.execute(
        update(_CUSTOMERS)
        .where(_CUSTOMERS.c.subject_id.in_(subject_ids))
        .values(customer_ref=None, name=None, phone=None, erased=True, marketing_consent=False)
    )
    session.execute(
        update(_CUSTOMERS).where(_CUSTOMERS.c.phone_subject.in_(subject_ids)).values(phone=None)
    )


def customers_of(engine: Engine, tenant_id: str, subject_ids: list[str]) -> list[Customer]:
    with Session(engine) as session:
        statement = select(Customer).where(
            col(Customer.tenant_id) == tenant_id,
            col(Customer.subject_id).in_(subject_ids),
            col(Customer.erased).is_(False),
        )
        return list(session.exec(statement).all())


def consent_history(engine: Engine, tenant_id: str, subject_ids: list[str]) -> list[ConsentEntry]:
    with Session(engine) as session:
        statement = (
            select(ConsentEntry)
            .where(
                col(ConsentEntry.tenant_id) == tenant_id,
                col(ConsentEntry.subject_id).in_(subject_ids),
            )
            .order_by(col(ConsentEntry.recorded_at), col(ConsentEntry.event_id))
        )
        return list(session.exec(statement).all())
