"""The isolation sweep's platform, started once for the package, and its two tenants' data."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from callcenter_events.admin import ensure_topics
from callcenter_testkit.isolation import QUIET, World, build_world
from callcenter_testkit.platform import Platform, start_platform


@pytest.fixture(scope="package")
def isolated_platform(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    prefix = f"iso-{uuid.uuid4().hex[:8]}."
    asyncio.run(ensure_topics(kafka_bootstrap, prefix=prefix))
    folder: Path = tmp_path_factory.mktemp("isolation")
    running = start_platform(
        kafka_bootstrap, prefix, f"sqlite:///{folder}/analytics.sqlite3", folder, extra_env=QUIET
    )
    yield running
    for service in running.services.values():
        service.stop()


@pytest.fixture(scope="package")
def world(isolated_platform: Platform, kafka_bootstrap: str) -> World:
    return asyncio.run(build_world(isolated_platform, kafka_bootstrap))
