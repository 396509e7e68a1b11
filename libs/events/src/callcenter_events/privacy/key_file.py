"""One instance's subject keys in a local SQLite file: memory stays flat however many there are.

The compacted key topic is the record of the keys; this file is the instance's index of it (the
pattern of a Kafka Streams state store beside its changelog topic). It is built from offset zero
at every start, so it is private to the instance and never migrated: the file is unlinked as
soon as it is opened, leaving nothing behind when the process stops or is killed, and the rollback
journal lives in memory. Lookups read a few pages through SQLite's bounded page cache, behind a
bounded cache of the records used last (a service seals and reveals the same few subjects many
times in a row: a new customer's key is created, used to seal, then read back by projections).
Erased subjects are deleted with `secure_delete`, so their wrapped keys are overwritten in the
file too.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from callcenter_events.privacy.keystore import KeyRecord
from callcenter_events.privacy.master import WrappedKey

PAGE_CACHE_KIB = 8 * 1024
PAGE_ROWS = 1000
RECORDS_CACHED = 10_000

_SCHEMA = (
    """CREATE TABLE keys (
        subject_id TEXT PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        lookup TEXT NOT NULL,
        master_key_id TEXT NOT NULL,
        wrapped_key BLOB NOT NULL,
        created_at TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX keys_by_lookup ON keys (lookup)",
    "CREATE TABLE erased (subject_id TEXT PRIMARY KEY) WITHOUT ROWID",
)
_UPSERT = """
    INSERT INTO keys SELECT ?1, ?2, ?3, ?4, ?5, ?6
    WHERE NOT EXISTS (SELECT 1 FROM erased WHERE subject_id = ?1)
    ON CONFLICT (subject_id) DO UPDATE SET
        tenant_id = excluded.tenant_id, lookup = excluded.lookup,
        master_key_id = excluded.master_key_id, wrapped_key = excluded.wrapped_key,
        created_at = excluded.created_at
"""
_COLUMNS = "subject_id, tenant_id, lookup, master_key_id, wrapped_key, created_at"

KeyChange = KeyRecord | str
"""A record to keep, or the subject id of a tombstone."""


class KeyFile:
    """The key index in an unlinked SQLite file; the same reads as the in-memory `KeyIndex`."""

    def __init__(self, directory: Path | None = None) -> None:
        folder = Path(directory) if directory is not None else Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix="subject-keys-", suffix=".sqlite", dir=folder)
        os.close(handle)
        try:
            self._db = sqlite3.connect(name, isolation_level=None)
        finally:
            os.unlink(name)
        for pragma in (
            "journal_mode = MEMORY",
            "temp_store = MEMORY",
            "synchronous = OFF",
            "secure_delete = ON",
            f"cache_size = -{PAGE_CACHE_KIB}",
        ):
            self._db.execute(f"PRAGMA {pragma}")
        for statement in _SCHEMA:
            self._db.execute(statement)
        self._recent: OrderedDict[str, KeyRecord] = OrderedDict()

    def close(self) -> None:
        self._db.close()

    def record(self, subject_id: str) -> KeyRecord | None:
        cached = self._recent.get(subject_id)
        if cached is not None:
            self._recent.move_to_end(subject_id)
            return cached
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM keys WHERE subject_id = ?", (subject_id,)
        ).fetchone()
        if row is None:
            return None
        found = _record_of(row)
        self._remember_recent(found)
        return found

    def subjects(self, lookup: str) -> list[str]:
        rows = self._db.execute("SELECT subject_id FROM keys WHERE lookup = ?", (lookup,))
        return [subject_id for (subject_id,) in rows]

    def is_erased(self, subject_id: str) -> bool:
        query = "SELECT 1 FROM erased WHERE subject_id = ?"
        return self._db.execute(query, (subject_id,)).fetchone() is not None

    def records(self) -> Iterator[KeyRecord]:
        """Every record, read a page at a time (writes in between are safe)."""
        after = ""
        while True:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM keys WHERE subject_id > ? ORDER BY subject_id LIMIT ?",
                (after, PAGE_ROWS),
            ).fetchall()
            if not rows:
                return
            yield from (_record_of(row) for row in rows)
            after = rows[-1][0]

    def __len__(self) -> int:
        (count,) = self._db.execute("SELECT count(*) FROM keys").fetchone()
        return int(count)

    def remember(self, record: KeyRecord) -> None:
        self.apply([record])

    def forget(self, subject_id: str) -> None:
        self.apply([subject_id])

    def apply(self, changes: Iterable[KeyChange]) -> None:
        """Records and tombstones in their order, in one transaction.

        A record this instance holds already (it wrote it, and now reads it back from the
        topic) costs no write.
        """
        with self._db:
            self._db.execute("BEGIN")
            for change in changes:
                if isinstance(change, KeyRecord):
                    self._keep(change)
                else:
                    self._erase(change)

    def _keep(self, record: KeyRecord) -> None:
        if self._recent.get(record.subject_id) == record:
            return
        if self._db.execute(_UPSERT, _row_of(record)).rowcount:
            self._remember_recent(record)

    def _erase(self, subject_id: str) -> None:
        self._recent.pop(subject_id, None)
        self._db.execute("INSERT OR IGNORE INTO erased VALUES (?)", (subject_id,))
        self._db.execute("DELETE FROM keys WHERE subject_id = ?", (subject_id,))

    def _remember_recent(self, record: KeyRecord) -> None:
        self._recent[record.subject_id] = record
        self._recent.move_to_end(record.subject_id)
        if len(self._recent) > RECORDS_CACHED:
            self._recent.popitem(last=False)


def _row_of(record: KeyRecord) -> tuple[str, str, str, str, bytes, str]:
    return (
        record.subject_id,
        record.tenant_id,
        record.lookup,
        record.wrapped.master_key_id,
        record.wrapped.blob,
        record.created_at.isoformat(),
    )


def _record_of(row: tuple[str, str, str, str, bytes, str]) -> KeyRecord:
    subject_id, tenant_id, lookup, master_key_id, blob, created_at = row
    return KeyRecord(
        subject_id=subject_id,
        tenant_id=tenant_id,
        lookup=lookup,
        wrapped=WrappedKey(master_key_id, bytes(blob)),
        created_at=datetime.fromisoformat(created_at),
    )
