"""The isolation sweep's platform, started once for the package, and its two tenants' data."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from callcenter_testkit.isolation import QUIET, World, build_world
from callcenter_testkit.platform import Platform, fresh_platform


@pytest.fixture(scope="package")
def isolated_platform(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    folder = tmp_path_factory.mktemp("isolation")
    with fresh_platform(kafka_bootstrap, "iso", folder, extra_env=QUIET) as running:
        yield running


@pytest.fixture(scope="package")
def world(isolated_platform: Platform, kafka_bootstrap: str) -> World:
    return asyncio.run(build_world(isolated_platform, kafka_bootstrap))
