"""The baseline of the intake benchmark: a bare FastAPI endpoint, no Kafka, no middleware.

Same route (`POST /v1/calls`), same body model (`intake.schemas.CallCreate`), same Bearer token
check and same answer (202 `{call_id, position}`), served by uvicorn with the options of
`callcenter_service.serve`. Run: `python -m bench.bare_app --port 8099` (the token comes from
`CALLCENTER_OPERATOR_TOKEN`).
"""

from __future__ import annotations

import argparse
import itertools
import os
import secrets
import uuid
from typing import Annotated

import uvicorn
from callcenter_service.app import UVICORN_OPTIONS
from fastapi import Depends, FastAPI, HTTPException, Request
from intake.schemas import Accepted, CallCreate

BEARER = "bearer "
FAKE_TOPIC = "bare.calls:0"


async def operator(request: Request) -> str:
    """The operator-token check of `callcenter_service.auth`, as one async dependency."""
    header = request.headers.get("authorization", "")
    given = header[len(BEARER) :].strip() if header.lower().startswith(BEARER) else ""
    expected: bytes = request.app.state.token
    if not given or not secrets.compare_digest(given.encode(), expected):
        raise HTTPException(401, "The token is not valid.", {"WWW-Authenticate": "Bearer"})
    return "operator"


Operator = Annotated[str, Depends(operator)]


def create_app(token: str) -> FastAPI:
    app = FastAPI(title="bare intake baseline")
    app.state.token = token.encode()
    offsets = itertools.count()

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/calls", status_code=202, response_model=Accepted)
    async def report_call(body: CallCreate, _who: Operator) -> Accepted:
        return Accepted(call_id=str(uuid.uuid4()), position=f"{FAKE_TOPIC}:{next(offsets)}")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    token = os.environ.get("CALLCENTER_OPERATOR_TOKEN", "dev-operator-token")
    uvicorn.run(create_app(token), host=args.host, port=args.port, **UVICORN_OPTIONS)


if __name__ == "__main__":
    main()
