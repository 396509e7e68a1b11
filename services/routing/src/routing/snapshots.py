"""Routing's snapshots in its own database: the engine's state at a fact number, and where in
the log the facts after it begin. Only the latest is kept; the log stays the truth."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Engine, LargeBinary
from sqlmodel import Column, Field, Session, SQLModel

from routing.replay import Positions


class RoutingSnapshot(SQLModel, table=True):
    __tablename__ = "routing_snapshots"

    pool: str = Field(primary_key=True)
    seq: int
    positions: str  # JSON: [[topic, partition, offset], ...]
    state: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # zlib(JSON)
    taken_at: datetime


@dataclass(frozen=True, slots=True)
class Snapshot:
    seq: int
    positions: Positions
    state: dict[str, Any]


def encode_state(state: dict[str, Any]) -> bytes:
    """Serialise now (the state refers to live objects); compressing can wait for a thread."""
    return orjson.dumps(state)


class SnapshotStore:
    def __init__(self, engine: Engine, pool: str = "default") -> None:
        self.engine = engine
        self._pool = pool

    def create_tables(self) -> None:
        SQLModel.metadata.create_all(self.engine, tables=[RoutingSnapshot.__table__])  # type: ignore[attr-defined]

    def save(self, seq: int, positions: Positions, state_json: bytes) -> int:
        """Replace the latest snapshot; answers its stored size in bytes."""
        row = RoutingSnapshot(
            pool=self._pool,
            seq=seq,
            positions=orjson.dumps([[t, p, o] for (t, p), o in sorted(positions.items())]).decode(),
            state=zlib.compress(state_json, level=1),
            taken_at=datetime.now(UTC),
        )
        with Session(self.engine) as session:
            session.merge(row)
            session.commit()
        return len(row.state)

    def latest(self) -> Snapshot | None:
        with Session(self.engine) as session:
            row = session.get(RoutingSnapshot, self._pool)
            if row is None:
                return None
            positions = {(t, p): o for t, p, o in orjson.loads(row.positions)}
            return Snapshot(row.seq, positions, orjson.loads(zlib.decompress(row.state)))
