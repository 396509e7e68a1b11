"""The services talk only through Kafka: none imports another, none carries an HTTP client."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "routing", "surveys", "analytics")
HTTP_CLIENTS = {"httpx", "requests", "aiohttp", "urllib3", "urllib.request", "http.client"}


def _imports(package: Path) -> set[str]:
    names: set[str] = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
    return names


def _roots(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names} | names


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service: str) -> None:
    imported = _roots(_imports(REPO / "services" / service / "src" / service))
    assert imported & (set(SERVICES) - {service}) == set()


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_has_no_http_client(service: str) -> None:
    imported = _roots(_imports(REPO / "services" / service / "src" / service))
    assert imported & HTTP_CLIENTS == set()


def test_the_shared_libraries_have_no_http_client() -> None:
    for library in ("events/src/callcenter_events", "service/src/callcenter_service"):
        assert _roots(_imports(REPO / "libs" / library)) & HTTP_CLIENTS == set(), library
