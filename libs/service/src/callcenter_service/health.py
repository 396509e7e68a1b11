"""`/livez`, `/readyz` and `/metrics`, the same in every service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from callcenter_service.problems import PROBLEM_JSON

router = APIRouter(tags=["operations"])


@router.get("/livez", summary="The process is alive (no dependencies checked)")
async def livez() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Connected to Kafka and caught up with the log",
    responses={503: {"description": "Not ready yet", "content": {PROBLEM_JSON: {}}}},
)
async def readyz(request: Request) -> JSONResponse:
    checks: dict[str, bool] = request.app.state.runtime.readiness()
    if all(checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    waiting = ", ".join(name for name, ok in checks.items() if not ok)
    problem: dict[str, Any] = {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": f"not ready; waiting for: {waiting}",
        "checks": checks,
    }
    return JSONResponse(problem, status_code=503, media_type=PROBLEM_JSON)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
