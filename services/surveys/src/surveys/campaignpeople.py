"""The campaign projection's copy of the customers, written a run of events at a time.

An import writes hundreds of thousands of `customer.updated` and `consent.given` events; each
run of them is one statement per table (and one lookup per chunk of people), not several per
event. Customer fields and consent fields are disjoint, and the consent kept is the latest by
its date whatever the order, so a run can be written in any order and ends the same.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from callcenter_events import Envelope
from callcenter_events.models import ConsentChange, ConsentGiven, CustomerUpdated
from callcenter_events.privacy.sealing import is_sealed, subject_of
from callcenter_events.store import as_utc, upsert
from sqlalchemy import bindparam, update
from sqlalchemy import select as sa_select
from sqlmodel import Session

from surveys.campaigntables import ERASED, PEOPLE

Key = tuple[str, str]
CHUNK = 500
KEYS = ["tenant_id", "subject_id"]


def is_person_fact(envelope: Envelope) -> bool:
    return isinstance(envelope.data, CustomerUpdated | ConsentChange) and bool(
        envelope.data_subject
    )


def put_people(session: Session, envelopes: Sequence[Envelope]) -> set[str]:
    """Customers and consent statements of a run of person facts; returns the erased subjects
    among its customers (written without their personal data)."""
    updates = {
        (e.data.tenant_id, str(e.data_subject)): e.data
        for e in envelopes
        if isinstance(e.data, CustomerUpdated)
    }
    gone = _erased_among(session, updates)
    if updates:
        rows = [_person_row(subject, event, gone) for (_, subject), event in updates.items()]
        replace = [name for name in rows[0] if name not in KEYS]
        upsert(session, PEOPLE, rows, keys=KEYS, replace=replace)
    statements = _latest_statements(envelopes)
    if statements:
        _put_consents(session, statements)
    return gone


def erase_people(session: Session, subject_ids: list[str]) -> None:
    """Blank the subjects' data (as customers, and as the number of a customer) and remember
    the erasure for the facts a replay may meet later."""
    upsert(session, ERASED, [{"subject_id": s} for s in subject_ids], keys=["subject_id"])
    erase = update(PEOPLE).where(PEOPLE.c.subject_id.in_(subject_ids))
    session.execute(erase.values(erased=True, customer_ref=None, phone=None))
    session.execute(
        update(PEOPLE).where(PEOPLE.c.phone_subject.in_(subject_ids)).values(phone=None)
    )


def _erased_among(session: Session, updates: dict[Key, CustomerUpdated]) -> set[str]:
    subjects = {subject for _, subject in updates}
    subjects |= {phone for event in updates.values() if (phone := _phone_subject(event))}
    found: set[str] = set()
    ordered = sorted(subjects)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        query = sa_select(ERASED.c.subject_id).where(ERASED.c.subject_id.in_(chunk))
        found |= set(session.execute(query).scalars())
    return found


def _phone_subject(event: CustomerUpdated) -> str | None:
    return subject_of(event.phone) if is_sealed(event.phone) else None


def _person_row(subject_id: str, event: CustomerUpdated, gone: set[str]) -> dict[str, Any]:
    phone_subject = _phone_subject(event)
    erased = subject_id in gone
    return {
        "tenant_id": event.tenant_id,
        "subject_id": subject_id,
        "customer_ref": None if erased else event.customer_ref,
        "phone": None if erased or phone_subject in gone else event.phone,
        "phone_subject": phone_subject,
        "language": event.language,
        "timezone": event.timezone,
        "segment": event.segment,
        "erased": erased,
    }


def _latest_statements(envelopes: Sequence[Envelope]) -> dict[Key, tuple[Any, ...]]:
    """Per person: (date, recorded, granted, event id) of their latest statement in the run."""
    latest: dict[Key, tuple[Any, ...]] = {}
    for envelope in envelopes:
        event = envelope.data
        if not isinstance(event, ConsentChange):
            continue
        key = (event.tenant_id, str(envelope.data_subject))
        statement = (
            as_utc(event.at),
            as_utc(event.recorded_at),
            isinstance(event, ConsentGiven),
            envelope.id,
        )
        if key not in latest or statement[:2] >= latest[key][:2]:
            latest[key] = statement
    return latest


def _put_consents(session: Session, statements: dict[Key, tuple[Any, ...]]) -> None:
    """Keep each person's latest statement by its date, then by when it was recorded."""
    minimal = [{"tenant_id": tenant, "subject_id": subject} for tenant, subject in statements]
    upsert(session, PEOPLE, minimal, keys=KEYS)
    stored = _stored_consents(session, list(statements))
    newer = [
        {"t": tenant, "s": subject, "g": granted, "at": at, "rec": recorded, "e": event_id}
        for (tenant, subject), (at, recorded, granted, event_id) in statements.items()
        if stored.get((tenant, subject)) is None or stored[(tenant, subject)] <= (at, recorded)
    ]
    if newer:
        statement = (
            update(PEOPLE)
            .where(PEOPLE.c.tenant_id == bindparam("t"), PEOPLE.c.subject_id == bindparam("s"))
            .values(
                consent_granted=bindparam("g"),
                consent_at=bindparam("at"),
                consent_recorded_at=bindparam("rec"),
                consent_event_id=bindparam("e"),
            )
        )
        session.connection().execute(statement, newer)


def _stored_consents(session: Session, keys: list[Key]) -> dict[Key, tuple[datetime, datetime]]:
    stored: dict[Key, tuple[datetime, datetime]] = {}
    for chunk in _chunks(keys):
        rows = session.execute(
            sa_select(
                PEOPLE.c.tenant_id,
                PEOPLE.c.subject_id,
                PEOPLE.c.consent_at,
                PEOPLE.c.consent_recorded_at,
            ).where(
                PEOPLE.c.subject_id.in_([subject for _, subject in chunk]),
                PEOPLE.c.consent_at.is_not(None),
            )
        )
        for row in rows:
            stored[(row.tenant_id, row.subject_id)] = (
                as_utc(row.consent_at),
                as_utc(row.consent_recorded_at),
            )
    return stored


def _chunks(keys: list[Key]) -> Iterator[list[Key]]:
    for start in range(0, len(keys), CHUNK):
        yield keys[start : start + CHUNK]
