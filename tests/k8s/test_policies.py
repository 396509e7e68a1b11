"""The policies hold in every overlay; KEDA scales within the partitions and replaces the HPA."""

from __future__ import annotations

from typing import Any

import pytest
from callcenter_events.access import access_of
from callcenter_testkit.k8s.policies import POLICIES, of_kind, violations
from callcenter_testkit.k8s.tools import OVERLAYS

Rendered = dict[str, list[dict[str, Any]]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_violation(rendered: Rendered, overlay: str) -> None:
    assert violations(rendered[overlay]) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_policy_has_something_to_check(rendered: Rendered, overlay: str) -> None:
    kinds = {resource["kind"] for resource in rendered[overlay]}

    assert {"Deployment", "KafkaTopic", "KafkaUser", "NetworkPolicy"} <= kinds
    assert len(POLICIES) == 8


def test_keda_scales_within_the_partitions_it_consumes(rendered: Rendered) -> None:
    for scaled in of_kind(rendered["dev-keda"], "ScaledObject"):
        service = scaled["spec"]["scaleTargetRef"]["name"]
        partitions = max(t.partitions for t in access_of(service).topics_read())

        assert 1 <= scaled["spec"]["maxReplicaCount"] <= partitions, service


def test_keda_replaces_the_hpa_of_the_services_it_scales(rendered: Rendered) -> None:
    scaled = {s["metadata"]["name"] for s in of_kind(rendered["dev-keda"], "ScaledObject")}
    hpas = {h["metadata"]["name"] for h in of_kind(rendered["dev-keda"], "HorizontalPodAutoscaler")}

    assert scaled == {"intake", "surveys", "analytics"}
    assert hpas == {"routing"}


def test_routing_scales_to_few_standbys(rendered: Rendered) -> None:
    for overlay in OVERLAYS:
        hpa = next(
            h
            for h in of_kind(rendered[overlay], "HorizontalPodAutoscaler")
            if h["metadata"]["name"] == "routing"
        )

        assert hpa["spec"]["maxReplicas"] <= 3


def test_brokers_keep_the_log(rendered: Rendered) -> None:
    for overlay in OVERLAYS:
        (kafka,) = of_kind(rendered[overlay], "Kafka")
        config = kafka["spec"]["kafka"]["config"]

        assert config["delete.topic.enable"] is False
        assert config["auto.create.topics.enable"] is False
        assert config["min.insync.replicas"] == 2


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_exactly_one_autoscaler(rendered: Rendered, overlay: str) -> None:
    resources = rendered[overlay]
    targets = [
        a["spec"]["scaleTargetRef"]["name"]
        for a in of_kind(resources, "HorizontalPodAutoscaler", "ScaledObject")
    ]

    deployments = sorted(d["metadata"]["name"] for d in of_kind(resources, "Deployment"))

    assert sorted(targets) == deployments
    assert all("replicas" not in d["spec"] for d in of_kind(resources, "Deployment"))
