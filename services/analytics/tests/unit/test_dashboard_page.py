"""The dashboard page and its assets: a strict CSP, no inline or third-party script, Plotly
served from the installed `plotly` package with a long cache."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from analytics.app import create_app
from analytics.dashboard_assets import PLOTLY_ASSET
from analytics.settings import AnalyticsSettings
from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

YEAR_S = 365 * 24 * 3600


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = AnalyticsSettings(
        kafka_bootstrap_servers="127.0.0.1:1",
        database_url=f"sqlite:///{tmp_path / 'analytics.sqlite3'}",
    )
    transport = httpx.ASGITransport(app=create_app(settings))  # no lifespan: Kafka not started
    async with httpx.AsyncClient(transport=transport, base_url="http://analytics") as client:
        yield client


class Tags(HTMLParser):
    """Every tag's attributes, and the text inside each <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text.append(data)


def directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parts}


async def test_the_page_has_a_strict_content_security_policy(client: httpx.AsyncClient) -> None:
    answer = await client.get("/dashboard")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    policy = directives(answer.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)
    assert answer.headers["x-content-type-options"] == "nosniff"


async def test_the_page_loads_scripts_only_from_this_service(client: httpx.AsyncClient) -> None:
    tags = Tags()
    tags.feed((await client.get("/dashboard")).text)
    scripts = [attrs["src"] for tag, attrs in tags.tags if tag == "script"]
    assert scripts == [f"/dashboard/assets/{PLOTLY_ASSET}", "/dashboard/assets/dashboard.js"]
    assert "".join(tags.script_text).strip() == "", "no inline script"
    handlers = [name for _, attrs in tags.tags for name in attrs if name.startswith("on")]
    assert handlers == [], "no inline event handlers"
    links = [attrs.get("href") or "" for tag, attrs in tags.tags if tag == "link"]
    assert all(link.startswith("/dashboard/assets/") for link in links)


async def test_plotly_is_served_from_the_installed_package(client: httpx.AsyncClient) -> None:
    answer = await client.get(f"/dashboard/assets/{PLOTLY_ASSET}")
    assert answer.status_code == 200
    assert answer.text == get_plotlyjs()
    assert answer.headers["content-type"].startswith("text/javascript")
    cache = answer.headers["cache-control"]
    assert "immutable" in cache
    max_age = re.search(r"max-age=(\d+)", cache)
    assert max_age is not None
    assert int(max_age.group(1)) >= YEAR_S


async def test_assets_are_gzipped_for_clients_that_accept_it(client: httpx.AsyncClient) -> None:
    plain = await client.get("/dashboard/assets/dashboard.js", headers={"Accept-Encoding": ""})
    request = client.build_request("GET", f"/dashboard/assets/{PLOTLY_ASSET}")
    request.headers["Accept-Encoding"] = "gzip"
    zipped = await client.send(request, stream=True)
    raw = b"".join([chunk async for chunk in zipped.aiter_raw()])
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(raw).decode() == get_plotlyjs()
    assert len(raw) < len(get_plotlyjs()) / 2
    assert "content-encoding" not in plain.headers
    assert plain.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("name", ["dashboard.js", "dashboard-charts.js", "dashboard-format.js"])
async def test_the_dashboards_own_scripts_load_nothing_from_elsewhere(
    client: httpx.AsyncClient, name: str
) -> None:
    answer = await client.get(f"/dashboard/assets/{name}")
    assert answer.headers["content-type"].startswith("text/javascript")  # modules need it
    imported = re.findall(r'from "([^"]+)"', answer.text)
    assert all(re.fullmatch(r"\./dashboard-[a-z]+\.js", path) for path in imported), imported
    assert re.findall(r"https?://", answer.text) == []
    assert "eval(" not in answer.text


@pytest.mark.parametrize("name", ["plotly.min.js", "..%2Fapp.py", "dashboard.html", "nope.css"])
async def test_anything_else_under_assets_is_404(client: httpx.AsyncClient, name: str) -> None:
    answer = await client.get(f"/dashboard/assets/{name}")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_the_page_and_assets_are_not_in_the_api_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert [path for path in paths if path.startswith("/dashboard")] == []
    assert {"/v1/analytics/surveys", "/v1/analytics/tenants"} <= set(paths)
