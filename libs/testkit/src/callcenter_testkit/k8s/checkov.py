"""checkov over rendered manifests, offline: its findings, and the skips that lack a reason."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from callcenter_testkit.k8s.tools import CHECKOV, tool

OPTIONS = ("--framework", "kubernetes", "secrets", "--skip-download", "--output", "json")
SKIPS_FILE = "checkov-skips.yaml"


def overlay_skips(overlay: Path) -> dict[str, str]:
    """The checks an overlay skips, each with its reason (`checkov-skips.yaml`: id: reason)."""
    path = overlay / SKIPS_FILE
    skips: dict[str, str] = yaml.safe_load(path.read_text()) if path.is_file() else {}
    return skips


@dataclass(frozen=True, slots=True)
class CheckovReport:
    failed: list[str]  # "<check id> <resource>: <check name>"
    skipped: list[tuple[str, str]]  # (check and resource, reason)
    passed: int


def _results(output: str) -> list[dict[str, Any]]:
    parsed = json.loads(output)
    reports = parsed if isinstance(parsed, list) else [parsed]
    return [report.get("results", {}) for report in reports]


def run_checkov(rendered: str, workdir: Path) -> CheckovReport:
    """Scan `rendered` (one YAML stream) with no network call (`--skip-download`, no API key).

    A resource's annotation (`checkov.io/skip1: ID=reason`) skips a check for it; the checks an
    annotation cannot skip (the secret scan's) stay in `failed`, for `overlay_skips` to excuse.
    """
    manifest = workdir / "rendered.yaml"
    manifest.write_text(rendered)
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_SKIP_DOWNLOAD": "TRUE"}
    env.pop("BC_API_KEY", None)
    result = subprocess.run(
        [str(tool(CHECKOV)), "--file", str(manifest), *OPTIONS],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=workdir,
        env=env,
    )
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise AssertionError(f"checkov failed ({result.returncode}):\n{result.stderr}")
    results = _results(result.stdout) if result.stdout.strip() != "[]" else []
    return CheckovReport(
        failed=[
            f"{check['check_id']} {check['resource']}: {check['check_name']}"
            for r in results
            for check in r.get("failed_checks", [])
        ],
        skipped=[
            (
                f"{check['check_id']} {check['resource']}",
                check.get("check_result", {}).get("suppress_comment", ""),
            )
            for r in results
            for check in r.get("skipped_checks", [])
        ],
        passed=sum(len(r.get("passed_checks", [])) for r in results),
    )
