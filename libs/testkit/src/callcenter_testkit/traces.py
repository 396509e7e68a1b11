"""Where personal data could linger: every record of every topic, every row of a database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from callcenter_events import Envelope, Position, decode
from callcenter_events.codec import Record as EventRecord

Record = tuple[bytes, bytes, bytes]


async def raw_log(bootstrap: str, topics: list[str]) -> list[Record]:
    """Every record of `topics` as key, value and its header values, read with a plain client."""
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    records: list[Record] = []
    try:
        while polled := await consumer.getmany(timeout_ms=1500):
            for messages in polled.values():
                records += [
                    (m.key or b"", m.value or b"", b"|".join(v for _, v in m.headers or ()))
                    for m in messages
                ]
    finally:
        await consumer.stop()
    return records


async def log_events(bootstrap: str, topics: list[str]) -> list[Envelope]:
    """Every event of `topics`, decoded, each with its position; per partition in log order."""
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    events: list[Envelope] = []
    try:
        while polled := await consumer.getmany(timeout_ms=1500):
            for tp, messages in polled.items():
                for m in messages:
                    record = EventRecord(m.key, m.value, tuple(m.headers or ()))
                    position = Position(tp.topic, tp.partition, m.offset)
                    events.append(decode(record).at(position))
    finally:
        await consumer.stop()
    return sorted(events, key=lambda e: (e.position.topic, e.position.partition, e.position.offset))  # type: ignore[union-attr]


def all_bytes(records: list[Record]) -> bytes:
    return b"\n".join(b"\n".join(record) for record in records)


def database_text(path: Path) -> str:
    """Every value of every table of a SQLite database, as one text."""
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(repr(row) for t in tables for row in db.execute(f'SELECT * FROM "{t}"'))


def delete_sqlite(*paths: Path) -> None:
    """Remove SQLite databases with their WAL files (a service rebuilds from offset zero)."""
    for database in paths:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
