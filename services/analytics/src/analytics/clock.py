"""What time it is for the reports that depend on now (queues, open status spans).

A dependency, so that a test pins it: `app.dependency_overrides[current_time] = lambda: moment`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends


async def current_time() -> datetime:
    """`async`: a plain function dependency would go through FastAPI's thread pool."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(current_time)]
