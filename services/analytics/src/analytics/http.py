"""What every analytics endpoint shares: the caller's tenant scope, time ranges, CSV answers.

Endpoints reach the projections through `serving(request)`: its `engine` reads the stable views
(the live build of every projection), and `wait_for(name, min_position)` is read-your-writes.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Protocol

import orjson
from callcenter_service import Principal, ProblemError
from fastapi import Depends, Query, Request, Response
from sqlalchemy import Engine

MAX_RANGE = timedelta(days=400)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""Times outside these are refused: ranges, periods and UTC conversions near Python's year 1 or
9999 would overflow (found by the OpenAPI fuzzer: `to=0001-01-01T01:01:00Z` was a 500)."""
DEFAULT_RANGE = timedelta(days=7)
MAX_PAGE = 10_000
JSON_PAGE = 1000


TenantChoice = Annotated[
    str | None, Query(max_length=64, description="The operator's choice of one tenant")
]
"""The `tenant_id` parameter of every tenant-scoped report: a key reads its own tenant only."""
MinPosition = Annotated[
    str | None, Query(description="Wait until this write is projected (read-your-writes)")
]
"""The `min_position` parameter: a position a write answered (topic:partition:offset)."""


class Serving(Protocol):
    engine: Engine

    async def wait_for(self, projection: str, min_position: str | None) -> None:
        """Wait (bounded; 503 after) until the projection's live build has read that write."""


def serving(request: Request) -> Serving:
    found: Serving = request.app.state.serving
    return found


def scope(caller: Principal, tenant_id: str | None) -> str | None:
    """A tenant's key reads its own tenant only; the operator reads one tenant or all."""
    if caller.tenant_id is None:
        return tenant_id
    if tenant_id not in (None, caller.tenant_id):
        raise ProblemError(404, f"No tenant {tenant_id!r}.")
    return caller.tenant_id


def aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ProblemError(400, "Times need an offset (RFC 3339), e.g. 2026-01-31T00:00:00Z.")
    if not EARLIEST <= moment < LATEST:
        raise ProblemError(
            400, f"Times must lie between {EARLIEST.year} and {LATEST.year} (got {moment})."
        )
    return moment


def time_range(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """[from, to), defaulting to the last 7 days; at most `MAX_RANGE` long."""
    end = aware(end) if end else datetime.now(UTC)
    start = aware(start) if start else end - DEFAULT_RANGE
    if start >= end:
        raise ProblemError(400, "`from` must be before `to`.")
    if end - start > MAX_RANGE:
        raise ProblemError(400, f"The range may span at most {MAX_RANGE.days} days.")
    return start, end


def group_names(group_by: str) -> tuple[str, ...]:
    """`a, b,a` -> ("a", "b"): the comma list, trimmed, each name once."""
    return tuple(dict.fromkeys(name.strip() for name in group_by.split(",") if name.strip()))


def wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")


def csv_response(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], next_cursor: str | None = None
) -> Response:
    """The rows as CSV; a further page is named in a `Link: <?cursor=...>; rel="next"` header."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    headers = {"Link": f'<?cursor={next_cursor}>; rel="next"'} if next_cursor else None
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


@dataclass(frozen=True, slots=True)
class Paging:
    """`limit` and the opaque `cursor` of a report's pages.

    A report's rows are in a fixed order; a cursor names the position after a page and the
    query it belongs to (its other parameters), so it cannot be used with another query. Each
    page is computed anew: with `to` in the past, the pages of a report fit together exactly.
    JSON answers pages of 1,000 rows unless `limit` says otherwise; CSV answers every row
    unless `limit` is given (a download is the whole report).
    """

    limit: int | None
    cursor: str | None

    def of(
        self, request: Request, rows: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], str | None]:
        """This page's rows and the cursor of the next page (None after the last)."""
        query = _query_id(request)
        start = 0 if self.cursor is None else _offset_of(self.cursor, query)
        size = self.limit or (None if wants_csv(request) else JSON_PAGE)
        end = len(rows) if size is None else start + size
        following = _cursor(end, query) if end < len(rows) else None
        return rows[start:end], following


def _paging(
    limit: Annotated[
        int | None,
        Query(ge=1, le=MAX_PAGE, description="Rows per page (JSON: 1000 unless given)"),
    ] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=200, description="`next_cursor` of the previous page"),
    ] = None,
) -> Paging:
    return Paging(limit, cursor)


Pages = Annotated[Paging, Depends(_paging)]


def _query_id(request: Request) -> str:
    asked = sorted(
        (k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "limit")
    )
    digest = hashlib.sha256(orjson.dumps([request.url.path, asked])).hexdigest()
    return digest[:16]


def _cursor(offset: int, query: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"o": offset, "q": query})).decode().rstrip("=")


def _offset_of(cursor: str, query: str) -> int:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset, of_query = int(data["o"]), str(data["q"])
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ProblemError(400, "`cursor` is not one this API gave.") from None
    if of_query != query or offset < 0:
        raise ProblemError(400, "`cursor` belongs to another query: keep its other parameters.")
    return offset
