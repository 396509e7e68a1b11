"""A broken copy of the manifests is caught by the policies: exactly what was broken, nothing else.

Each test copies k8s/ to a temporary folder, breaks one thing in a source file, renders the
dev overlay with kustomize and compares the violations with the one expected.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from callcenter_testkit.k8s.policies import violations
from callcenter_testkit.k8s.tools import K8S, documents, render

INTAKE = Path("base/services/intake.yaml")
ROUTING = Path("base/services/routing.yaml")
TOPICS = Path("base/kafka/topics.yaml")
DEV = Path("overlays/dev/kustomization.yaml")
POSTGRES = Path("overlays/dev/postgres.yaml")

REMOVE_DOCUMENT = "<remove the YAML document that holds `old`>"

BREAKAGES = {
    "no readiness probe": (
        INTAKE,
        "        readinessProbe:\n          httpGet:\n            path: /readyz\n",
        "        readinessGone:\n          httpGet:\n            path: /readyz\n",
        ["Deployment/intake: container intake has no readinessProbe"],
    ),
    "no memory limit": (
        POSTGRES,
        'limits: { cpu: "1", memory: 512Mi, ephemeral-storage: 512Mi }',
        'limits: { cpu: "1", ephemeral-storage: 512Mi }',
        ["StatefulSet/postgres: container postgres has no limits memory"],
    ),
    "root user": (
        ROUTING,
        "          runAsNonRoot: true\n          runAsUser: 10001\n          runAsGroup: 10001\n"
        "          readOnlyRootFilesystem: true\n",
        "          runAsNonRoot: false\n          runAsUser: 10001\n          runAsGroup: 10001\n"
        "          readOnlyRootFilesystem: true\n",
        ["Deployment/routing: container routing: runAsNonRoot is not true"],
    ),
    "uid 0": (
        ROUTING,
        "          runAsUser: 10001\n          runAsGroup: 10001\n          readOnlyRootFilesystem",
        "          runAsUser: 0\n          runAsGroup: 10001\n          readOnlyRootFilesystem",
        ["Deployment/routing: container routing: runAsUser is root or unset"],
    ),
    "a topic missing": (
        TOPICS,
        "  topicName: callcenter.privacy.v1\n",
        REMOVE_DOCUMENT,
        ["topic callcenter.privacy.v1 has no KafkaTopic"],
    ),
    "latest image": (DEV, "newTag: 0.1.0", "newTag: latest", None),
}


def broken_copy(tmp_path: Path, file: Path, old: str, new: str) -> list[str]:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    text = (copy / file).read_text()
    assert text.count(old) == 1, f"{old!r} not found once in {file}"
    if new == REMOVE_DOCUMENT:
        kept = [doc for doc in text.split("---\n") if old not in doc]
        (copy / file).write_text("---\n".join(kept))
    else:
        (copy / file).write_text(text.replace(old, new))
    return violations(documents(render(copy / "overlays" / "dev")))


def test_the_intact_copy_has_no_violation(tmp_path: Path) -> None:
    assert broken_copy(tmp_path, DEV, "newTag: 0.1.0", "newTag: 0.1.0") == []


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_breakage_is_reported_alone(tmp_path: Path, breakage: str) -> None:
    file, old, new, expected = BREAKAGES[breakage]

    found = broken_copy(tmp_path, file, old, new)

    if expected is None:  # the one image of the four services, in each Deployment
        expected = [
            f"Deployment/{s}: image ghcr.io/callcenter-platform/callcenter:latest uses latest"
            for s in ("analytics", "intake", "routing", "surveys")
        ]
        found = sorted(found)
    assert found == expected
