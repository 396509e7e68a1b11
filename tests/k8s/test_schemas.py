"""Every rendered resource fits its schema: core kinds (Kubernetes 1.33, strict), CRDs' kinds."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from callcenter_testkit.k8s.schemas import UNCHECKED, crd_schemas, schema_errors
from callcenter_testkit.k8s.tools import OVERLAYS

Rendered = dict[str, list[dict[str, Any]]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_resource_fits_its_schema(rendered: Rendered, overlay: str) -> None:
    errors = [error for resource in rendered[overlay] for error in schema_errors(resource)]

    assert errors == []


def test_the_crds_of_strimzi_and_keda_are_there() -> None:
    kinds = {kind for (_, kind) in crd_schemas()}

    assert {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "ScaledObject"} <= kinds


def test_only_listed_kinds_go_unchecked(rendered: Rendered) -> None:
    kinds = {(r["apiVersion"], r["kind"]) for docs in rendered.values() for r in docs}

    assert kinds & set(UNCHECKED) == {("keda.sh/v1alpha1", "TriggerAuthentication")}


@pytest.mark.parametrize("kind", ["Deployment", "Kafka", "KafkaUser", "ScaledObject"])
def test_an_unknown_field_is_an_error(rendered: Rendered, kind: str) -> None:
    resource = copy.deepcopy(next(r for r in rendered["dev-keda"] if r["kind"] == kind))
    resource["spec"]["replica"] = 3

    errors = schema_errors(resource)

    assert len(errors) == 1
    assert "'replica' was unexpected" in errors[0]
