"""Surveys' view of the tenants' customers and their consent ledger, a projection of the log.

Rows are keyed by the customer's pseudonymous subject id, never by the reference itself: the
reference, number and name are stored sealed as the events carried them and opened on read.
An erasure blanks them and marks the customer erased; a replay that meets the customer's
events after the erasure (another topic read first) keeps none of their data either.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
        """The batch in runs between erasures, each run written a few statements at a time."""
        run: list[Envelope] = []
        for envelope in envelopes:
            data = envelope.data
            if isinstance(data, SubjectsErased):
                _write_run(session, run)
                run = []
                _erase(session, data.subject_ids)
            elif isinstance(data, CustomerUpdated | ConsentChange) and envelope.data_subject:
                run.append(envelope)
        _write_run(session, run)


def _write_run(session: Session, run: list[Envelope]) -> None:
    """Customers and consent statements, no erasure among them: the rows one event at a time
    would leave, in a few statements (a projection that keeps up with an import)."""
    if not run:
        return
    settled = _settled_statements(session, run)
    updates = [(e.data_subject or "", e.data) for e in run if isinstance(e.data, CustomerUpdated)]
    _update_customers(session, updates)
    entries = [_ledger_entry(e, e.data) for e in run if isinstance(e.data, ConsentChange)]
    upsert(session, _LEDGER, entries, keys=["event_id"])
    _set_consent(session, settled)


def _settled_statements(session: Session, run: list[Envelope]) -> dict[str, str]:
    """Subject -> purpose of its last statement in the run, where that statement finds the
    customer's row (there before the run, or written earlier in it); read before any write."""
    first_update: dict[str, int] = {}
    last_statement: dict[str, tuple[int, str]] = {}
    for index, envelope in enumerate(run):
        subject, data = envelope.data_subject or "", envelope.data
        if isinstance(data, ConsentChange):
            last_statement[subject] = (index, data.purpose)
        else:
            first_update.setdefault(subject, index)
    if not last_statement:
        return {}
    present = _present(session, set(last_statement))
    return {
        subject: purpose
        for subject, (index, purpose) in last_statement.items()
        if subject in present or first_update.get(subject, index) < index
    }


def _present(session: Session, subject_ids: set[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(subject_ids):
        query = sa_select(_CUSTOMERS.c.subject_id).where(_CUSTOMERS.c.subject_id.in_(chunk))
        found |= set(session.execute(query).scalars())
    return found


def _erased(session: Session, subject_ids: set[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(subject_ids):
        query = sa_select(_ERASED.c.subject_id).where(_ERASED.c.subject_id.in_(chunk))
        found |= set(session.execute(query).scalars())
    return found


def _chunks(ids: set[str], size: int = 500) -> Iterator[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def _phone_subject(event: CustomerUpdated) -> str | None:
    return subject_of(event.phone) if is_sealed(event.phone) else None


def _update_customers(session: Session, updates: list[tuple[str, CustomerUpdated]]) -> None:
    if not updates:
        return
    phones = {phone for _, event in updates if (phone := _phone_subject(event))}
    gone = _erased(session, {subject for subject, _ in updates} | phones)
    rows = [_customer_row(subject, event, gone) for subject, event in updates]
    replace = [k for k in rows[0] if k not in ("tenant_id", "subject_id")]
    upsert(session, _CUSTOMERS, rows, keys=["tenant_id", "subject_id"], replace=replace)


def _customer_row(subject_id: str, event: CustomerUpdated, gone: set[str]) -> dict[str, Any]:
    """The row of a customer; nothing personal of an erased subject (met again in a replay)."""
    phone_subject = _phone_subject(event)
    return {
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


def _ledger_entry(envelope: Envelope, event: ConsentChange) -> dict[str, Any]:
    return {
        "event_id": envelope.id,
        "tenant_id": event.tenant_id,
        "subject_id": envelope.data_subject,
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


def _set_consent(session: Session, settled: dict[str, str]) -> None:
    """Each settled customer's consent: the ledger's latest statement (by its date, then by
    when it was recorded) for the purpose."""
    latest: dict[str, tuple[datetime, datetime, bool]] = {}
    for chunk in _chunks(set(settled)):
        query = sa_select(
            _LEDGER.c.subject_id,
            _LEDGER.c.purpose,
            _LEDGER.c.at,
            _LEDGER.c.recorded_at,
            _LEDGER.c.granted,
        ).where(_LEDGER.c.subject_id.in_(chunk))
        for subject, purpose, at, recorded_at, granted in session.execute(query):
            known = latest.get(subject)
            if purpose == settled[subject] and (known is None or (at, recorded_at) > known[:2]):
                latest[subject] = (at, recorded_at, granted)
    for granted in (True, False):
        subjects = {subject for subject, entry in latest.items() if entry[2] is granted}
        for chunk in _chunks(subjects):
            where = _CUSTOMERS.c.subject_id.in_(chunk)
            session.execute(update(_CUSTOMERS).where(where).values(marketing_consent=granted))


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
