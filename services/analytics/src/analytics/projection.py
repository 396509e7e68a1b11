"""What an analytics projection is, and the tables it writes.

A projection has a name and a version, reads some event types from some topics, and declares its
tables under their **stable names**: the names analysts (and the query API) read. Each build of
the projection (a version, built from offset zero, possibly again as a new generation) writes its
own physical copies of those tables; the stable names are views onto the live build's copies,
swapped in one transaction. So `apply` writes the tables it is given, never the declared ones:

    def apply(self, session, envelopes, tables):
        session.execute(tables["analytics_dispositions"].insert(), rows)

Adding a projection: a module with a class like this and a line in `analytics.registry`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from callcenter_events import Envelope
from callcenter_events.topics import Topic
from sqlalchemy import MetaData, Table
from sqlmodel import Session

METADATA = MetaData()
"""Every analytics projection's tables, under their stable names."""

Tables = Mapping[str, Table]
"""Stable table name -> the table this build writes."""


class AnalyticsProjection(Protocol):
    name: str
    version: int
    types: frozenset[str]
    topics: tuple[Topic, ...]
    tables: tuple[Table, ...]

    def apply(self, session: Session, envelopes: Sequence[Envelope], tables: Tables) -> None:
        """Apply one batch, in the transaction that also stores the batch's positions."""
