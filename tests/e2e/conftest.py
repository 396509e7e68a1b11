"""Fixtures of the end-to-end tests: the whole platform as processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from callcenter_testkit.platform import Platform, start_platform


@pytest.fixture
def platform_env() -> dict[str, str]:
    """More settings for the platform's services (a test module may override this)."""
    return {}


@pytest.fixture
def platform(
    kafka_bootstrap: str,
    topic_prefix: str,
    database_url: str,
    tmp_path: Path,
    platform_env: dict[str, str],
) -> Iterator[Platform]:
    running = start_platform(
        kafka_bootstrap, topic_prefix, database_url, tmp_path, extra_env=platform_env
    )
    try:
        yield running
    finally:
        for service in running.services.values():
            service.stop()
