"""Where personal data could linger: every record of every topic, every row of a database."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from callcenter_events import Envelope, Position, decode
from callcenter_events.codec import Record as EventRecord

Record = tuple[bytes, bytes, bytes]


async def _every_message(bootstrap: str, topics: list[str]) -> list[tuple[Any, Any]]:
    """Every message of `topics` with its partition, read with a plain client to the end."""
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    found: list[tuple[Any, Any]] = []
    try:
        while polled := await consumer.getmany(timeout_ms=1500):
            found += [(tp, m) for tp, messages in polled.items() for m in messages]
    finally:
        await consumer.stop()
    return found


async def raw_log(bootstrap: str, topics: list[str]) -> list[Record]:
    """Every record of `topics` as key, value and its header values."""
    return [
        (m.key or b"", m.value or b"", b"|".join(v for _, v in m.headers or ()))
        for _tp, m in await _every_message(bootstrap, topics)
    ]


async def log_events(bootstrap: str, topics: list[str]) -> list[Envelope]:
    """Every event of `topics`, decoded, each with its position; per partition in log order."""
    events = [
        decode(EventRecord(m.key, m.value, tuple(m.headers or ()))).at(
            Position(tp.topic, tp.partition, m.offset)
        )
        for tp, m in await _every_message(bootstrap, topics)
    ]
    return sorted(events, key=_log_order)


def _log_order(event: Envelope) -> tuple[str, int, int]:
    position = event.position
    assert position is not None
    return (position.topic, position.partition, position.offset)


@dataclass(frozen=True, slots=True)
class HeadedRecord:
    """A record as written: topic, key, value and its headers by name."""

    topic: str
    key: bytes
    value: bytes
    headers: dict[str, bytes]


async def headed_records(bootstrap: str, topics: list[str]) -> list[HeadedRecord]:
    """Every record of `topics` with its headers (per partition in log order)."""
    return [
        HeadedRecord(tp.topic, m.key or b"", m.value or b"", dict(m.headers or ()))
        for tp, m in await _every_message(bootstrap, topics)
    ]


def all_bytes(records: list[Record]) -> bytes:
    return b"\n".join(b"\n".join(record) for record in records)


def database_text(path: Path) -> str:
    """Every value of every table of a SQLite database, as one text."""
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(
            f"{t}: {row!r}" for t in tables for row in db.execute(f'SELECT * FROM "{t}"')
        )


def delete_sqlite(*paths: Path) -> None:
    """Remove SQLite databases with their WAL files (a service rebuilds from offset zero)."""
    for database in paths:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
