"""The platform the fuzzers call: started once for all of them, on its own topics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from callcenter_testkit.platform import Platform, fresh_platform
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# The customers import reads NDJSON as text, one JSON object per line: sent as text is sent.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")


@pytest.fixture(scope="session")
def fuzz_checks() -> list[Any]:
    """No 5xx; every status, content type and body as the document says."""
    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]


@pytest.fixture(scope="session")
def fuzzed_platform(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    folder = tmp_path_factory.mktemp("fuzz")
    # four services starting at once on a busy two-core machine: a longer wait for ready
    with fresh_platform(kafka_bootstrap, "fuzz", folder, ready_timeout=180) as running:
        yield running
