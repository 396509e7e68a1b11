"""A service's app served over real HTTP inside the test's own event loop.

For tests that build the app themselves (other projections registered, a route added, a clock
pinned): the same ASGI app a service runs, on a free port, with a client whose base URL is it.
The block starts once `ready(client)` is true (default: `/readyz` answers 200).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx
import uvicorn

from callcenter_testkit.polling import eventually
from callcenter_testkit.processes import free_port

Ready = Callable[[httpx.AsyncClient], Awaitable[bool]]


async def answers_ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


@contextlib.asynccontextmanager
async def served(
    app: Any,
    *,
    headers: Mapping[str, str] | None = None,
    ready: Ready = answers_ready,
    timeout: float = 60.0,
) -> AsyncIterator[httpx.AsyncClient]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    base_url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:

            async def up() -> bool:
                try:
                    return await ready(client)
                except httpx.TransportError:  # not listening yet
                    return False

            await eventually(up, timeout=timeout, interval=0.1, what=f"{base_url} ready")
            yield client
    finally:
        server.should_exit = True
        await task
