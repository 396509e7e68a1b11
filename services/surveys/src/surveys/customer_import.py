"""Importing a customer list: rows in batches, sealed and published, a few batches in flight.

Each batch's good rows become the events a `PUT` of each would write (`CustomerWriter`), in
file order, so a reference repeated in the file ends as its last row says. A consent statement
is an event only when it changes the customer's consent: the batch looks up the current consent
of its customers at once, and remembers what the file itself stated for its most recent
customers, which the projection may not show yet. Nothing grows with the file: one batch being
built, `BATCHES_IN_FLIGHT` waiting for the broker, and at most `MAX_ERRORS` rejected rows.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterable, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from callcenter_events import Envelope, Position

from surveys.customer_events import CustomerWriter
from surveys.import_rows import BadRow, GoodRow, Row
from surveys.import_schemas import ImportReport, RowError

BATCH_ROWS: Final = 2000  # measured against 500 and 1000: fewer consent lookups, which wait
BATCHES_IN_FLIGHT: Final = 2  # for SQLite's one thread behind the projections' writes
MAX_ERRORS: Final = 1000
RECENT_CUSTOMERS: Final = 20_000

ConsentLookup = Callable[[Collection[str]], Awaitable[dict[str, bool | None]]]
"""The current consent of the customers with these references (absent: not a customer yet)."""


class Publisher(Protocol):
    """What the import needs of `EventProducer`."""

    async def enqueue_all(self, envelopes: Sequence[Envelope]) -> list[asyncio.Future[Any]]: ...

    async def acknowledged(
        self, deliveries: Sequence[asyncio.Future[Any]], envelopes: Sequence[Envelope]
    ) -> list[Position]: ...


@dataclass(slots=True)
class Tally:
    """The report as it grows: counts, and the first `MAX_ERRORS` rejected rows."""

    accepted: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    position: Position | None = None

    def reject(self, row: BadRow) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS:
            error = RowError(row=row.number, customer_ref=row.customer_ref, problems=row.problems)
            self.errors.append(error)

    def report(self, import_id: str) -> ImportReport:
        return ImportReport(
            import_id=import_id,
            rows=self.accepted + self.rejected,
            accepted=self.accepted,
            rejected=self.rejected,
            errors=self.errors,
            errors_truncated=self.rejected > len(self.errors),
            position=None if self.position is None else str(self.position),
        )


class RecentConsent:
    """What this import stated last for its most recent customers, by reference (bounded)."""

    def __init__(self, size: int = RECENT_CUSTOMERS) -> None:
        self._size = size
        self._stated: OrderedDict[str, bool] = OrderedDict()

    def __contains__(self, ref: object) -> bool:
        return ref in self._stated

    def __getitem__(self, ref: str) -> bool:
        return self._stated[ref]

    def remember(self, ref: str, granted: bool) -> None:
        self._stated[ref] = granted
        self._stated.move_to_end(ref)
        if len(self._stated) > self._size:
            self._stated.popitem(last=False)


@dataclass(frozen=True, slots=True)
class _Sent:
    deliveries: list[asyncio.Future[Any]]
    envelopes: list[Envelope]
    rows: int


class CustomerImport:
    """One import: `run` reads the rows and answers the report once every write is acknowledged."""

    def __init__(
        self, writer: CustomerWriter, current_consent: ConsentLookup, publisher: Publisher
    ) -> None:
        self.import_id = str(uuid.uuid4())
        self._writer = writer
        self._current_consent = current_consent
        self._publisher = publisher
        self._recent = RecentConsent()
        self._tally = Tally()
        self._in_flight: deque[_Sent] = deque()

    async def run(self, rows: AsyncIterable[Row]) -> ImportReport:
        try:
            await self._write_all(rows)
            while self._in_flight:
                await self._settle_oldest()
        finally:
            await self._abandon()
        return self._tally.report(self.import_id)

    async def _write_all(self, rows: AsyncIterable[Row]) -> None:
        batch: list[GoodRow] = []
        async for row in rows:
            if isinstance(row, BadRow):
                self._tally.reject(row)
                continue
            batch.append(row)
            if len(batch) == BATCH_ROWS:
                await self._write(batch)
                batch = []
        if batch:
            await self._write(batch)

    async def _write(self, batch: list[GoodRow]) -> None:
        """Seal the batch (its new subjects' keys written side by side), then hand it over."""
        consents = await self._consent_before(batch)
        sealed = await asyncio.gather(
            *(
                self._writer.customer(
                    row.customer.customer_ref, row.customer, current_consent=current
                )
                for row, current in zip(batch, consents, strict=True)
            )
        )
        envelopes = [envelope for group in sealed for envelope in group]
        deliveries = await self._publisher.enqueue_all(envelopes)
        self._in_flight.append(_Sent(deliveries, envelopes, len(batch)))
        while len(self._in_flight) > BATCHES_IN_FLIGHT:
            await self._settle_oldest()

    async def _consent_before(self, batch: list[GoodRow]) -> list[bool | None]:
        """Per row, its customer's consent just before it: as stored, or as the file stated."""
        stated = [row.customer for row in batch if row.customer.consent is not None]
        unknown = {c.customer_ref for c in stated if c.customer_ref not in self._recent}
        stored = await self._current_consent(unknown) if unknown else {}
        before: list[bool | None] = []
        for row in batch:
            ref, consent = row.customer.customer_ref, row.customer.consent
            before.append(self._recent[ref] if ref in self._recent else stored.get(ref))
            if consent is not None:
                self._recent.remember(ref, consent.marketing_calls)
        return before

    async def _settle_oldest(self) -> None:
        sent = self._in_flight[0]
        positions = await self._publisher.acknowledged(sent.deliveries, sent.envelopes)
        self._in_flight.popleft()
        self._tally.accepted += sent.rows
        self._tally.position = positions[-1]

    async def _abandon(self) -> None:
        """After a failure: let what was handed over settle, so no delivery is left unheard."""
        pending = [future for sent in self._in_flight for future in sent.deliveries]
        self._in_flight.clear()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
