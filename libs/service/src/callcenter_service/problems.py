"""Errors as RFC 9457 problem documents (`application/problem+json`), never a bare 500 page."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from callcenter_events.privacy import KeyStoreUnavailableError
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger(__name__)


class ProblemError(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.type = type_
        self.headers = headers
        self.extensions = extensions


def problem_response(
    request: Request, problem: ProblemError, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "type": problem.type,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path,
        **problem.extensions,
    }
    return JSONResponse(
        jsonable_encoder(body),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers or problem.headers,
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(KeyStoreUnavailableError, _on_key_store)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected)


async def _on_problem(request: Request, exc: ProblemError) -> JSONResponse:
    return problem_response(request, exc)


async def _on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    problem = ProblemError(exc.status_code, str(exc.detail))
    return problem_response(request, problem, headers=dict(exc.headers or {}))


async def _on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"location": list(err.get("loc", ())), "message": err.get("msg", ""), "type": err["type"]}
        for err in exc.errors()
    ]
    problem = ProblemError(
        422, "The request does not match the schema; see `errors`.", errors=errors
    )
    return problem_response(request, problem)


async def _on_key_store(request: Request, exc: KeyStoreUnavailableError) -> JSONResponse:
    """Personal data cannot be sealed or opened this moment: never guess, ask for a retry."""
    log.warning("key_store_unavailable", path=request.url.path, error=str(exc))
    problem = ProblemError(503, "Personal data keys are not readable right now; retry shortly.")
    return problem_response(request, problem, headers={"Retry-After": "2"})


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path)
    return problem_response(request, ProblemError(500, "An unexpected error occurred."))


class Problem(BaseModel):
    """An error (RFC 9457). Extension members, such as `errors` or `code`, may follow."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting problem documents for these status codes."""
    return {
        status: {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


COMMON_PROBLEMS = problem_responses(400, 401, 403, 404, 413, 422, 429, 503)
