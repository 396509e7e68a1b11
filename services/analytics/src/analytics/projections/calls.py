"""Calls, version 2: one fact row per call, with what the call KPIs need to be computed exactly.

The facts of a call come from four topics read independently: intake's calls topic (received,
ended, abandoned, wrapped up), routing's (queued, offered, connected), the surveys topic (the
campaign that requested an outbound call; customers' segments) and the tenants topic (the
thresholds in force). So every write is order-independent and idempotent: a call's column keeps
the first value it was given, an offer or a threshold set is written once, a customer's segments
are replaced only by a later version. Figures (waits, handle times, rates) are derived at query
time from these facts, so a threshold change or a late event never leaves a stored figure stale.
"""

from __future__ import annotations

from collections.abc import Sequence

from callcenter_events import Envelope
from callcenter_events.store import fill_in, insert_new, keep_latest
from callcenter_events.topics import CALLS, ROUTING, SURVEYS, TENANTS, Topic
from sqlalchemy import Table, select, update
from sqlmodel import Session

from analytics.projection import Tables
from analytics.projections import calls_tables as schema
from analytics.projections.calls_fold import CALL_FACTS, CallsFold

OTHER_TYPES = ("call.offered", "tenant.created", "tenant.settings_changed", "customer.updated")


class CallsProjection:
    name: str = "calls"
    version: int = 2
    types: frozenset[str] = frozenset({*CALL_FACTS, *OTHER_TYPES})
    topics: tuple[Topic, ...] = (CALLS, ROUTING, SURVEYS, TENANTS)
    tables: tuple[Table, ...] = (
        schema.CALLS,
        schema.CALL_OFFERS,
        schema.TENANT_THRESHOLDS,
        schema.CUSTOMER_SEGMENTS,
    )

    def apply(self, session: Session, envelopes: Sequence[Envelope], tables: Tables) -> None:
        fold = CallsFold.of(envelopes)
        calls, offers = tables[schema.CALLS.name], tables[schema.CALL_OFFERS.name]
        fill_in(session, calls, list(fold.calls.values()), keys=["call_id"])
        insert_new(session, offers, list(fold.offers.values()))
        insert_new(session, tables[schema.TENANT_THRESHOLDS.name], list(fold.thresholds.values()))
        keep_latest(
            session,
            tables[schema.CUSTOMER_SEGMENTS.name],
            list(fold.segments.values()),
            keys=["data_subject"],
            by="updated_at",
        )
        resolve_steps(session, calls, offers, fold.unresolved_steps())


def resolve_steps(session: Session, calls: Table, offers: Table, call_ids: list[str]) -> None:
    """Give these calls, if connected and still without a step, the step of their offer.

    The offer and the connection of a call may be projected in different batches (in either
    order): whichever comes second completes the call's step here.
    """
    if not call_ids:
        return
    step = select(offers.c.step).where(offers.c.offer_id == calls.c.offer_id).scalar_subquery()
    session.execute(
        update(calls)
        .where(
            calls.c.call_id.in_(call_ids),
            calls.c.step.is_(None),
            calls.c.offer_id.is_not(None),
        )
        .values(step=step)
    )
