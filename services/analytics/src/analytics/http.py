"""What every analytics endpoint shares: the caller's tenant scope, time ranges, CSV answers.

Endpoints reach the projections through `serving(request)`: its `engine` reads the stable views
(the live build of every projection), and `wait_for(name, min_position)` is read-your-writes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from callcenter_service import Principal, ProblemError
from fastapi import Request, Response
from sqlalchemy import Engine

MAX_RANGE = timedelta(days=400)
DEFAULT_RANGE = timedelta(days=7)


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


def csv_response(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8")
