"""Where personal data could linger: every record of every topic, every row of a database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aiokafka import AIOKafkaConsumer

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
