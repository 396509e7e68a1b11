"""The import's batches: the events a PUT of each row would write, consent only when it changes,
a bounded number of batches waiting for the broker, and a capped error report."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

import pytest
from callcenter_events import Envelope, Position
from callcenter_events.models import CustomerUpdated
from callcenter_events.privacy import MasterKeys, MemoryKeyStore, Vault, is_sealed
from surveys import customer_import
from surveys.customer_events import CustomerWriter
from surveys.customer_import import MAX_ERRORS, CustomerImport
from surveys.import_rows import BadRow, GoodRow, Row
from surveys.import_schemas import CustomerRow, ImportReport

TENANT = "acme"


class FakeBroker:
    """Takes envelopes like `EventProducer`; counts the batches not yet acknowledged."""

    def __init__(self) -> None:
        self.written: list[Envelope] = []
        self.waiting = 0
        self.most_waiting = 0

    async def enqueue_all(self, envelopes: Sequence[Envelope]) -> list[asyncio.Future[Any]]:
        self.waiting += 1
        self.most_waiting = max(self.most_waiting, self.waiting)
        deliveries = []
        for envelope in envelopes:
            delivery: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            delivery.set_result(Position("surveys", 0, len(self.written)))
            self.written.append(envelope)
            deliveries.append(delivery)
        return deliveries

    async def acknowledged(
        self, deliveries: Sequence[asyncio.Future[Any]], envelopes: Sequence[Envelope]
    ) -> list[Position]:
        self.waiting -= 1
        return list(await asyncio.gather(*deliveries))


class StoredConsent:
    """The projection's consent by reference; remembers what it was asked."""

    def __init__(self, consent: dict[str, bool | None]) -> None:
        self.consent = consent
        self.asked: list[set[str]] = []

    async def __call__(self, refs: Collection[str]) -> dict[str, bool | None]:
        self.asked.append(set(refs))
        return {ref: self.consent[ref] for ref in refs if ref in self.consent}


def _vault() -> Vault:
    return Vault(MemoryKeyStore(), MasterKeys.parse(MasterKeys.generate("test")), b"secret")


def _row(number: int, ref: str, consent: bool | None = None) -> GoodRow:
    fields: dict[str, Any] = {
        "customer_ref": ref,
        "phone": f"+49301{number:07d}",
        "language": "de",
        "timezone": "Europe/Berlin",
    }
    if consent is not None:
        fields["consent"] = {"marketing_calls": consent, "source": "crm", "at": "2026-03-01T10:00Z"}
    return GoodRow(number, CustomerRow.model_validate(fields))


async def _stream(rows: Sequence[Row]) -> AsyncIterator[Row]:
    for row in rows:
        yield row


async def _import(
    rows: Sequence[Row], stored: StoredConsent | None = None
) -> tuple[ImportReport, FakeBroker, Vault]:
    vault, broker = _vault(), FakeBroker()
    writer = CustomerWriter(vault, TENANT, "key-1")
    importer = CustomerImport(writer, stored or StoredConsent({}), broker)
    return await importer.run(_stream(rows)), broker, vault


async def _who(vault: Vault, envelope: Envelope) -> tuple[str, str | None]:
    revealed = await vault.reveal_event(envelope.data)
    return envelope.type, getattr(revealed, "customer_ref", None)


async def test_consent_is_written_only_where_it_changes_the_customers_consent() -> None:
    stored = StoredConsent({"known-yes": True, "known-never-asked": None})
    rows = [
        _row(1, "known-yes", consent=True),  # unchanged: no consent event
        _row(2, "known-never-asked", consent=False),  # a first statement: recorded
        _row(3, "new", consent=True),  # a new customer's statement: recorded
        _row(4, "new", consent=True),  # the file repeats itself: nothing new
        _row(5, "known-yes", consent=False),  # withdrawn later in the file: recorded
        _row(6, "quiet"),  # no statement
    ]
    report, broker, vault = await _import(rows, stored)
    written = [await _who(vault, envelope) for envelope in broker.written]
    assert written == [
        ("customer.updated", "known-yes"),
        ("customer.updated", "known-never-asked"),
        ("consent.withdrawn", "known-never-asked"),
        ("customer.updated", "new"),
        ("consent.given", "new"),
        ("customer.updated", "new"),
        ("customer.updated", "known-yes"),
        ("consent.withdrawn", "known-yes"),
        ("customer.updated", "quiet"),
    ]
    assert stored.asked == [{"known-yes", "known-never-asked", "new"}], "one lookup per batch"
    assert (report.rows, report.accepted, report.rejected) == (6, 6, 0)
    assert report.position == "surveys:0:8"


async def test_what_the_file_stated_counts_in_later_batches_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(customer_import, "BATCH_ROWS", 2)
    rows = [_row(1, "a", consent=True), _row(2, "b"), _row(3, "c"), _row(4, "a", consent=True)]
    stored = StoredConsent({})  # the projection has not caught up with the first batch
    _report, broker, _ = await _import(rows, stored)
    assert [envelope.type for envelope in broker.written].count("consent.given") == 1
    assert stored.asked == [{"a"}], "the second batch knows `a` from the file"


async def test_at_most_a_few_batches_wait_for_the_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(customer_import, "BATCH_ROWS", 3)
    rows = [_row(n, f"c-{n}") for n in range(1, 41)]
    report, broker, _ = await _import(rows)
    assert broker.most_waiting == customer_import.BATCHES_IN_FLIGHT + 1
    assert broker.waiting == 0, "every batch acknowledged before the answer"
    assert report.accepted == 40
    updates = [e.data for e in broker.written if isinstance(e.data, CustomerUpdated)]
    assert all(is_sealed(u.phone) and is_sealed(u.customer_ref) for u in updates)


async def test_the_error_report_is_capped_and_says_so() -> None:
    bad = [BadRow(n, f"c-{n}", ("phone: Field required",)) for n in range(1, MAX_ERRORS + 6)]
    report, broker, _ = await _import([*bad, _row(MAX_ERRORS + 6, "good")])
    assert (report.rows, report.accepted, report.rejected) == (MAX_ERRORS + 6, 1, MAX_ERRORS + 5)
    assert len(report.errors) == MAX_ERRORS
    assert report.errors_truncated is True
    assert report.errors[0].model_dump() == {
        "row": 1,
        "customer_ref": "c-1",
        "problems": ["phone: Field required"],
    }
    assert len(broker.written) == 1


async def test_an_import_of_bad_rows_only_writes_nothing() -> None:
    report, broker, _ = await _import([BadRow(1, None, ("Invalid JSON",))])
    assert (report.accepted, report.rejected, report.position) == (0, 1, None)
    assert report.errors_truncated is False
    assert broker.written == []
