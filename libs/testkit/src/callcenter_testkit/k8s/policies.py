"""Policies on rendered manifests, each a function returning its violations (empty: none).

Every workload (Deployment, StatefulSet) has probes, requests and limits, a restrictive
securityContext, a PodDisruptionBudget and a NetworkPolicy of its own; every topic of libs/events
has its KafkaTopic; every image is pinned; every service's KafkaUser writes exactly its topics.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from callcenter_events.access import SERVICES
from callcenter_events.topics import ALL_TOPICS

Resource = dict[str, Any]
WORKLOADS = ("Deployment", "StatefulSet")
PROBES = ("startupProbe", "livenessProbe", "readinessProbe")
RESOURCES = ("cpu", "memory")


def name_of(resource: Resource) -> str:
    return f"{resource['kind']}/{resource['metadata']['name']}"


def of_kind(resources: Iterable[Resource], *kinds: str) -> Iterator[Resource]:
    return (resource for resource in resources if resource.get("kind") in kinds)


def containers(workload: Resource) -> list[Resource]:
    spec = workload["spec"]["template"]["spec"]
    found: list[Resource] = spec.get("containers", []) + spec.get("initContainers", [])
    return found


def pod_labels(workload: Resource) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"].get("labels", {})
    return labels


def missing_probes(resources: list[Resource]) -> list[str]:
    return [
        f"{name_of(w)}: container {c['name']} has no {probe}"
        for w in of_kind(resources, *WORKLOADS)
        for c in w["spec"]["template"]["spec"]["containers"]
        for probe in PROBES
        if probe not in c
    ]


def missing_resources(resources: list[Resource]) -> list[str]:
    return [
        f"{name_of(w)}: container {c['name']} has no {kind} {quantity}"
        for w in of_kind(resources, *WORKLOADS)
        for c in containers(w)
        for kind in ("requests", "limits")
        for quantity in RESOURCES
        if quantity not in c.get("resources", {}).get(kind, {})
    ]


def _security_faults(pod: Resource, container: Resource) -> list[str]:
    """What a container's securityContext (or its pod's, where the container sets none) lacks."""
    context = container.get("securityContext", {})

    def setting(key: str) -> Any:
        return context.get(key, pod.get(key))

    dropped = context.get("capabilities", {}).get("drop", [])
    faults = {
        "runAsNonRoot is not true": setting("runAsNonRoot") is not True,
        "runAsUser is root or unset": not setting("runAsUser"),
        "readOnlyRootFilesystem is not true": context.get("readOnlyRootFilesystem") is not True,
        "allowPrivilegeEscalation is not false": context.get("allowPrivilegeEscalation")
        is not False,
        "capabilities do not drop ALL": "ALL" not in dropped,
        "seccompProfile is not RuntimeDefault": (setting("seccompProfile") or {}).get("type")
        != "RuntimeDefault",
    }
    return [fault for fault, found in faults.items() if found]


def insecure_containers(resources: list[Resource]) -> list[str]:
    violations = []
    for workload in of_kind(resources, *WORKLOADS):
        pod = workload["spec"]["template"]["spec"]
        pod_context = pod.get("securityContext", {})
        if pod.get("automountServiceAccountToken") is not False:
            violations.append(f"{name_of(workload)}: automountServiceAccountToken is not false")
        violations += [
            f"{name_of(workload)}: container {c['name']}: {fault}"
            for c in containers(workload)
            for fault in _security_faults(pod_context, c)
        ]
    return violations


def selects(selector: Resource, labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels, matchExpressions with In) selects `labels`."""
    if not selector:
        return False  # an empty selector selects everything: not a policy of the workload's own
    matched = all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())
    for expression in selector.get("matchExpressions", []):
        value = labels.get(expression["key"])
        matched &= expression["operator"] == "In" and value in expression["values"]
    return matched


def _unselected(resources: list[Resource], kind: str, selector_path: tuple[str, ...]) -> list[str]:
    def selector(resource: Resource) -> Resource:
        node: Any = resource
        for key in selector_path:
            node = node.get(key, {})
        found: Resource = node
        return found

    policies = list(of_kind(resources, kind))
    return [
        f"{name_of(w)}: no {kind} selects its pods"
        for w in of_kind(resources, *WORKLOADS)
        if not any(selects(selector(p), pod_labels(w)) for p in policies)
    ]


def missing_disruption_budgets(resources: list[Resource]) -> list[str]:
    return _unselected(resources, "PodDisruptionBudget", ("spec", "selector"))


def missing_network_policies(resources: list[Resource]) -> list[str]:
    return _unselected(resources, "NetworkPolicy", ("spec", "podSelector"))


def missing_topics(resources: list[Resource]) -> list[str]:
    declared = {
        t["spec"].get("topicName", t["metadata"]["name"]): t["spec"].get("partitions")
        for t in of_kind(resources, "KafkaTopic")
    }
    violations = []
    for topic in ALL_TOPICS:
        if topic.name() not in declared:
            violations.append(f"topic {topic.name()} has no KafkaTopic")
        elif declared[topic.name()] != topic.partitions:
            violations.append(
                f"KafkaTopic {topic.name()} has {declared[topic.name()]} partitions, "
                f"libs/events {topic.partitions}"
            )
    return violations


def unpinned_images(resources: list[Resource]) -> list[str]:
    violations = []
    for workload in of_kind(resources, *WORKLOADS):
        for c in containers(workload):
            image: str = c["image"]
            if "@sha256:" in image:
                continue
            repository, _, tag = image.rpartition(":")
            if not repository or "/" in tag:
                violations.append(f"{name_of(workload)}: image {image} has no tag")
            elif tag == "latest":
                violations.append(f"{name_of(workload)}: image {image} uses latest")
    return violations


def _written_topics(user: Resource) -> set[str]:
    return {
        acl["resource"]["name"]
        for acl in user["spec"]["authorization"]["acls"]
        if acl["resource"]["type"] == "topic" and "Write" in acl["operations"]
    }


def wrong_write_acls(resources: list[Resource]) -> list[str]:
    users = {u["metadata"]["name"]: u for u in of_kind(resources, "KafkaUser")}
    violations = []
    for access in SERVICES:
        expected = {topic.name() for topic in access.writes}
        if access.service not in users:
            violations.append(f"service {access.service} has no KafkaUser")
        elif (written := _written_topics(users[access.service])) != expected:
            violations.append(
                f"KafkaUser {access.service} writes {sorted(written)}, owns {sorted(expected)}"
            )
    return violations


POLICIES = (
    missing_probes,
    missing_resources,
    insecure_containers,
    missing_disruption_budgets,
    missing_network_policies,
    missing_topics,
    unpinned_images,
    wrong_write_acls,
)


def violations(resources: list[Resource]) -> list[str]:
    """Every policy's violations, in one list."""
    return [violation for policy in POLICIES for violation in policy(resources)]
