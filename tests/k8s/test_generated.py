"""The generated manifests are what k8s/generate.py writes from libs/events and the settings now."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from callcenter_testkit.k8s.tools import K8S


def check(root: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(K8S / "generate.py"), "--check", "--root", str(root)]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


def test_committed_files_are_what_the_generator_writes() -> None:
    result = check(K8S)

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_stale_file_is_named(tmp_path: Path) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    topics = copy / "base" / "kafka" / "topics.yaml"
    topics.write_text(topics.read_text().replace("partitions: 6", "partitions: 5", 1))

    result = check(copy)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "stale: k8s/base/kafka/topics.yaml (run: python3 -m uv run --frozen python k8s/generate.py)"
    ]
