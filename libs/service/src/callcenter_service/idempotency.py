"""`Idempotency-Key` on creating POSTs, as Stripe does it.

The first request with a key runs and its answer is stored (in the service's own database, so
it survives a restart); a retry with the same key and the same body gets that answer again, with
`Idempotent-Replayed: true`; the same key with another body is refused with 409, and so is a
retry while the first request is still running. Answers of 4xx/5xx are not stored: the client
may fix the request and retry with the same key. A request left unfinished by a crash is taken
over by a retry after `STALE_AFTER`; ids derived from the key make that retry write the same
call, so the consumers drop the repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from callcenter_events import utc_now
from callcenter_events.store import in_db_thread, insert_if_absent
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    update,
)
from sqlalchemy import select as sa_select

from callcenter_service.directory import Principal
from callcenter_service.problems import ProblemError

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
STALE_AFTER = timedelta(seconds=60)


class IdempotencyRecord(BaseModel):
    owner: str
    key: str
    request_hash: str
    status_code: int | None = None
    body: str | None = None
    created_at: datetime


def idempotency_table(name: str) -> Table:
    """The keys table of one service (`<service>_idempotency`), in that service's database."""
    return Table(
        name,
        MetaData(),
        Column("owner", String, primary_key=True),
        Column("key", String, primary_key=True),
        Column("request_hash", String, nullable=False),
        Column("status_code", Integer),
        Column("body", Text),
        Column("created_at", DateTime, nullable=False),
    )


@dataclass(frozen=True, slots=True)
class Claim:
    """A request that holds its idempotency key (or has none)."""

    owner: str
    key: str | None
    request_hash: str

    def derived_id(self, kind: str) -> str:
        """A random id without a key; with one, the same id for every retry."""
        if self.key is None:
            return str(uuid.uuid4())
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.owner}/{self.key}/{kind}"))


class IdempotencyStore:
    """`hash_key` keys the stored request hashes: a body with a phone number in it cannot be
    confirmed by hashing guesses without the key."""

    def __init__(self, engine: Engine, hash_key: bytes, *, table: str) -> None:
        self.engine = engine
        self._hash_key = hash_key
        self._table = idempotency_table(table)

    def create_tables(self) -> None:
        self._table.metadata.create_all(self.engine)

    async def claim(self, request: Request, principal: Principal) -> Claim | Replay:
        """Hold the request's key, or answer with the stored first answer."""
        owner = principal.tenant_id or "operator"
        request_hash = await _request_hash(request, self._hash_key)
        key = request.headers.get(HEADER)
        if key is None:
            return Claim(owner, None, request_hash)
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            raise ProblemError(400, f"`Idempotency-Key` must be 1 to {MAX_KEY_LENGTH} characters.")
        stored = await in_db_thread(self.engine, self._claim, owner, key, request_hash)
        if stored is None:
            return Claim(owner, key, request_hash)
        return _replay(stored, request_hash)

    async def complete(self, claim: Claim, status_code: int, body: Any) -> None:
        if claim.key is not None:
            body_text = orjson.dumps(body).decode()
            await in_db_thread(self.engine, self._complete, claim, status_code, body_text)

    async def release(self, claim: Claim) -> None:
        """The request failed: forget the key so that a corrected retry can run."""
        if claim.key is not None:
            await in_db_thread(self.engine, self._release, claim)

    def _claim(self, owner: str, key: str, request_hash: str) -> IdempotencyRecord | None:
        row = {"owner": owner, "key": key, "request_hash": request_hash, "created_at": utc_now()}
        with self.engine.begin() as connection:  # Core, not the ORM: this is the hot path
            if insert_if_absent(connection, self._table, row):
                return None
            stored = IdempotencyRecord.model_validate(
                connection.execute(_select(self._table, owner, key)).mappings().one()
            )
            if (
                stored.status_code is None
                and _stale(stored)
                and stored.request_hash == request_hash
            ):
                connection.execute(  # take over the crashed first attempt
                    update(self._table)
                    .where(self._table.c.owner == owner, self._table.c.key == key)
                    .values(created_at=utc_now())
                )
                return None
            return stored

    def _complete(self, claim: Claim, status_code: int, body: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(self._table)
                .where(self._table.c.owner == claim.owner, self._table.c.key == claim.key)
                .values(status_code=status_code, body=body)
            )

    def _release(self, claim: Claim) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                delete(self._table).where(
                    self._table.c.owner == claim.owner, self._table.c.key == claim.key
                )
            )


def _select(table: Table, owner: str, key: str) -> Any:
    return sa_select(table).where(table.c.owner == owner, table.c.key == key)


def _stale(record: IdempotencyRecord) -> bool:
    created = record.created_at
    if created.tzinfo is None:  # SQLite gives naive UTC back
        created = created.replace(tzinfo=utc_now().tzinfo)
    return utc_now() - created > STALE_AFTER


async def _request_hash(request: Request, key: bytes) -> str:
    """The method, path and body in canonical JSON: the same request, however it is spaced."""
    raw = await request.body()
    try:
        canonical = orjson.dumps(orjson.loads(raw or b"null"), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        canonical = raw
    text = f"{request.method} {request.url.path}\n".encode() + canonical
    return hmac.new(key, text, hashlib.sha256).hexdigest()


def _replay(stored: IdempotencyRecord, request_hash: str) -> Replay:
    if stored.request_hash != request_hash:
        raise ProblemError(
            409,
            "This Idempotency-Key was used with a different request.",
            code="idempotency_key_reused",
        )
    if stored.status_code is None or stored.body is None:
        raise ProblemError(
            409,
            "A request with this Idempotency-Key is still in progress; retry shortly.",
            code="idempotency_key_in_use",
            headers={"Retry-After": "1"},
        )
    return Replay(stored.status_code, orjson.loads(stored.body))


@dataclass(frozen=True, slots=True)
class Replay:
    """The stored first answer to a request with this key."""

    status_code: int
    body: dict[str, Any]

    def response(self) -> JSONResponse:
        headers = {"Idempotent-Replayed": "true"}
        return JSONResponse(self.body, status_code=self.status_code, headers=headers)
