"""The pinned tools the manifest tests run, found where deploy/tools.sh installs them."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[5]
K8S = REPO / "k8s"
KUSTOMIZE = REPO / ".local" / "bin" / "kustomize"
CHECKOV = REPO / ".local" / "tools" / "checkov" / "bin" / "checkov"
OVERLAYS = ("dev", "prod", "dev-keda")


class ToolMissingError(RuntimeError):
    """A tool the tests need is not installed."""


def tool(path: Path) -> Path:
    if not path.is_file():
        raise ToolMissingError(f"{path} is missing: run `make tools`")
    return path


def render(overlay: Path) -> str:
    """`kustomize build` of an overlay (or any kustomization folder), as YAML text."""
    result = subprocess.run(
        [str(tool(KUSTOMIZE)), "build", str(overlay)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise AssertionError(f"kustomize build {overlay} failed:\n{result.stderr}")
    return result.stdout


def documents(rendered: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(rendered) if doc]
