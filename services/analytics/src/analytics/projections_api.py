"""`GET /v1/projections`: every projection's builds, the live one and any being built."""

from __future__ import annotations

from typing import Any

from callcenter_service import AnalyticsReader
from callcenter_service.problems import COMMON_PROBLEMS
from fastapi import APIRouter, Request

from analytics.status import build_status
from analytics.supervisor import ProjectionSupervisor

router = APIRouter(prefix="/v1", tags=["projections"], responses=COMMON_PROBLEMS)


@router.get(
    "/projections",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "projections": [
                            {
                                "name": "calls",
                                "version": 2,
                                "generation": 0,
                                "state": "live",
                                "position": 1204332,
                                "lag": 0,
                                "started_at": "2026-11-27T09:00:00+00:00",
                                "live_at": "2026-11-27T09:00:00+00:00",
                            }
                        ]
                    }
                }
            }
        }
    },
)
async def projections(request: Request, _who: AnalyticsReader) -> dict[str, Any]:
    """Name, version, generation, state (`live`, `building`), position (events read) and lag
    (events in the log not yet read) of every build."""
    supervisor: ProjectionSupervisor = request.app.state.serving
    rows = await build_status(
        supervisor.engine,
        supervisor.projections,
        supervisor.ends,
        supervisor.topic_prefix,
    )
    return {"projections": rows}
