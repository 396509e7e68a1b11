"""`GET /dashboard`: the analysts' page, and its assets under `/dashboard/assets/`.

The page holds no data: its script asks the tenant-scoped query API (`/v1/analytics/...`) with
the key the user enters, so it shows only what that key may read. It is served with a strict
Content-Security-Policy: scripts only from this service (no inline code, no CDN), requests only
to this service, no framing. Not in the OpenAPI document: these are a page and files, not API.
"""

from __future__ import annotations

import asyncio

from callcenter_service import ProblemError
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from analytics.dashboard_assets import ASSET_NAMES, Asset, asset, page

router = APIRouter(include_in_schema=False)

EMPTY_STYLE = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
"""The hash of an empty `<style>` element: Plotly adds one and fills it through the CSSOM
(`insertRule`, which CSP does not govern); no inline style with content is allowed."""
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        f"style-src 'self' {EMPTY_STYLE}",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@router.get("/dashboard")
async def dashboard() -> HTMLResponse:
    return HTMLResponse(page(), headers=PAGE_HEADERS)


@router.get("/dashboard/assets/{name}")
async def dashboard_asset(name: str, request: Request) -> Response:
    if name not in ASSET_NAMES:
        raise ProblemError(404, f"No dashboard asset {name!r}.")
    found = await asyncio.to_thread(asset, name)
    return await asyncio.to_thread(_answer, found, _accepts_gzip(request))


def _accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "")


def _answer(found: Asset, gzipped: bool) -> Response:
    headers = {
        "Cache-Control": found.cache_control,
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    body = found.gzipped if gzipped else found.body
    return Response(body, media_type=found.media_type, headers=headers)
