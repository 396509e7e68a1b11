"""The rendered overlays, each built once per session with the pinned kustomize."""

from __future__ import annotations

from typing import Any

import pytest
from callcenter_testkit.k8s.tools import K8S, OVERLAYS, documents, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """Every overlay's resources, by overlay name."""
    return {overlay: documents(render(K8S / "overlays" / overlay)) for overlay in OVERLAYS}
