"""The generated parts of k8s/, as file contents keyed by their path under k8s/."""

from __future__ import annotations

from pathlib import Path

from manifests.env import env_files
from manifests.kafka import topics_file, users_file
from manifests.keda import kustomization_file, scaled_objects_file
from manifests.workloads import workload_files


def generated_files() -> dict[Path, str]:
    """Every generated file: its path relative to k8s/ and its content."""
    return {
        Path("base/kafka/topics.yaml"): topics_file(),
        Path("base/kafka/users.yaml"): users_file(),
        **env_files(),
        **workload_files(),
        Path("components/keda/scaledobjects.yaml"): scaled_objects_file(),
        Path("components/keda/kustomization.yaml"): kustomization_file(),
    }
