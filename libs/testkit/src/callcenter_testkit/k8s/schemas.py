"""Rendered resources against their schemas: core kinds with kubernetes-validate (offline, strict),
Strimzi and KEDA kinds with the `openAPIV3Schema` of their CRDs in shared/k8s-crds."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate import utils

from callcenter_testkit.k8s.tools import REPO

KUBERNETES_VERSION = "1.33"
CRDS = REPO.parent / "shared" / "k8s-crds"
# A kind with no schema available offline, and why it is accepted unchecked.
UNCHECKED = {
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "no CRD of it in shared/k8s-crds",
}


def closed(schema: Any) -> Any:
    """The schema with unknown fields refused (as `kubectl --validate=strict` does), except where
    the CRD keeps them (`x-kubernetes-preserve-unknown-fields`, `additionalProperties`)."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copy = {key: closed(value) for key, value in schema.items()}
    open_ended = "additionalProperties" in schema or schema.get(
        "x-kubernetes-preserve-unknown-fields"
    )
    if "properties" in schema and not open_ended:
        copy["additionalProperties"] = False
    return copy


def _schema_of(version: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = closed(version["schema"]["openAPIV3Schema"])
    return schema


@cache
def crd_schemas(folder: Path = CRDS) -> dict[tuple[str, str], dict[str, Any]]:
    """Every served version of every CRD in `folder`, keyed by (apiVersion, kind)."""
    schemas = {}
    for path in sorted(folder.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    schemas[(f"{group}/{version['name']}", kind)] = _schema_of(version)
    return schemas


def _crd_errors(resource: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(resource)
    ]


def _core_errors(resource: dict[str, Any]) -> list[str]:
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except jsonschema.ValidationError as error:  # kubernetes-validate's subclass
        return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"]
    except utils.SchemaNotFoundError as error:
        return [error.message]
    return []


def schema_errors(resource: dict[str, Any]) -> list[str]:
    """Why `resource` does not fit its schema (empty if it does)."""
    key = (resource.get("apiVersion", ""), resource.get("kind", ""))
    name = f"{key[1]}/{resource.get('metadata', {}).get('name')}"
    if key in UNCHECKED:
        return []
    schemas = crd_schemas()
    errors = _crd_errors(resource, schemas[key]) if key in schemas else _core_errors(resource)
    return [f"{name}: {error}" for error in errors]
