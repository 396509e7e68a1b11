"""The image recipe, checked without a Docker engine: what can be read from the Dockerfile.

No engine runs on our machines, so the image is not built here; these tests hold the recipe to
its promises: the lock honoured, every workspace member's dependencies in the cached layer, a
runtime stage without build tools that runs as a non-root user.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "Dockerfile"


def _stages(text: str) -> dict[str, list[str]]:
    """The instructions of each stage, by stage name (continuation lines joined)."""
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in re.sub(r"\\\n\s*", " ", text).splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if match := re.match(r"FROM\s+\S+\s+AS\s+(\S+)", stripped, re.IGNORECASE):
            current = stages.setdefault(match.group(1), [])
        current.append(stripped)
    return stages


@pytest.fixture(scope="module")
def stages() -> dict[str, list[str]]:
    return _stages(DOCKERFILE.read_text())


def _workspace_members() -> list[str]:
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns: list[str] = root["tool"]["uv"]["workspace"]["members"]
    return sorted(
        str(p.parent.relative_to(REPO)) for g in patterns for p in REPO.glob(f"{g}/pyproject.toml")
    )


def test_two_stages_and_the_last_one_is_the_runtime(stages: dict[str, list[str]]) -> None:
    assert list(stages) == ["build", "runtime"]


def test_every_dependency_comes_from_the_lock_file(stages: dict[str, list[str]]) -> None:
    syncs = [line for line in stages["build"] if line.startswith("RUN uv sync")]
    assert len(syncs) == 2
    assert all("--frozen" in line and "--no-dev" in line for line in syncs)
    assert "COPY pyproject.toml uv.lock ./" in stages["build"]


def test_the_dependency_layer_knows_every_workspace_member(stages: dict[str, list[str]]) -> None:
    """A member missing here would make `uv sync --frozen` fail, or cache the wrong layer."""
    copied = sorted(
        line.split()[1].removesuffix("/pyproject.toml")
        for line in stages["build"]
        if line.startswith("COPY ") and line.split()[1].endswith("/pyproject.toml")
    )
    assert copied == _workspace_members()


def test_the_runtime_has_no_build_tools_and_runs_as_a_non_root_user(
    stages: dict[str, list[str]],
) -> None:
    runtime = "\n".join(stages["runtime"])
    assert "uv" not in re.findall(r"\b(uv|gcc|build-essential)\b", runtime)
    assert "apt-get install" not in runtime
    assert "site-packages/pip*" in runtime  # the base image's pip is removed
    users = [line for line in stages["runtime"] if line.startswith("USER ")]
    assert users == ["USER 10001:10001"]
    assert "COPY --from=build /app/.venv /app/.venv" in stages["runtime"]


def test_the_base_image_is_pinned_to_a_patch_release() -> None:
    match = re.search(r"ARG PYTHON_IMAGE=python:(\S+)", DOCKERFILE.read_text())
    assert match is not None
    assert re.fullmatch(r"3\.11\.\d+-slim-\w+", match.group(1))


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".local"} <= set(ignored)
