"""The compose file, checked without a Docker engine: it parses, names every service, and sets
the same environment variables as the Kubernetes manifests (so the two cannot drift apart)."""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from callcenter_service import ServiceSettings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "deploy" / "docker-compose.yml"
K8S = REPO / "k8s"
SERVICES = ("intake", "routing", "surveys", "analytics")
LEFT_AT_DEVELOPMENT_DEFAULTS = {"CALLCENTER_MASTER_KEYS", "CALLCENTER_LOOKUP_SECRET"}
"""Secrets Kubernetes sets and compose leaves to the services' development values."""
ONLY_WITH_SASL = {"KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD", "KAFKA_SSL_CAFILE"}
"""Compose talks plaintext to its one local broker: no user, password or CA to give."""


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def _env_file_names(path: Path) -> set[str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


def _deployment(service: str) -> dict[str, Any]:
    documents = yaml.safe_load_all((K8S / "base" / "services" / f"{service}.yaml").read_text())
    return next(d for d in documents if d and d["kind"] == "Deployment")


def _dev_overlay() -> dict[str, Any]:
    overlay: dict[str, Any] = yaml.safe_load((K8S / "overlays/dev/kustomization.yaml").read_text())
    return overlay


def _secret_keys(name: str) -> set[str]:
    generated = next(s for s in _dev_overlay()["secretGenerator"] if s["name"] == name)
    return {literal.split("=", 1)[0] for literal in generated["literals"]}


def _kubernetes_names(service: str) -> set[str]:
    """Every variable the service's container gets in Kubernetes (dev overlay's Secrets)."""
    container = _deployment(service)["spec"]["template"]["spec"]["containers"][0]
    env_files = {"callcenter-common": "common", f"{service}-env": service}
    names = {variable["name"] for variable in container.get("env", [])}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            names |= _env_file_names(
                K8S / f"base/env/{env_files[source['configMapRef']['name']]}.env"
            )
        else:
            names |= _secret_keys(source["secretRef"]["name"])
    return names


def _env_file_values(path: Path) -> dict[str, str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    pairs = (line.partition("=") for line in lines if line and not line.startswith("#"))
    return {name: value for name, _, value in pairs}


def _compose_environment(definition: dict[str, Any]) -> dict[str, str]:
    """What the container's environment would be (`${NAME:-default}` taken as its default)."""
    values: dict[str, str] = {}
    for env_file in definition["env_file"]:
        values |= _env_file_values((COMPOSE.parent / env_file).resolve())
    for name, value in definition["environment"].items():
        values[name] = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))
    return values


def _compose_names(definition: dict[str, Any]) -> set[str]:
    return set(_compose_environment(definition))


def _settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"{service}.settings")
    return next(
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
    )


def test_compose_names_kafka_postgres_and_the_four_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"kafka", "postgres", *SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_runs_the_image_and_command_kubernetes_runs(
    compose: dict[str, Any], service: str
) -> None:
    definition = compose["services"][service]
    container = _deployment(service)["spec"]["template"]["spec"]["containers"][0]
    tag = next(i["newTag"] for i in _dev_overlay()["images"] if i["name"] == container["image"])
    assert definition["image"] == f"{container['image']}:{tag}"
    assert definition["command"] == [*container.get("command", []), *container.get("args", [])]


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_reads_the_env_files_kubernetes_generates_its_config_maps_from(
    compose: dict[str, Any], service: str
) -> None:
    env_files = compose["services"][service]["env_file"]
    assert env_files == ["../k8s/base/env/common.env", f"../k8s/base/env/{service}.env"]
    assert all((COMPOSE.parent / f).resolve().is_file() for f in env_files)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_gets_the_variables_kubernetes_sets(
    compose: dict[str, Any], service: str
) -> None:
    in_compose = _compose_names(compose["services"][service])
    in_kubernetes = _kubernetes_names(service)
    assert in_compose - in_kubernetes == set(), "set in compose only"
    missing = in_kubernetes - in_compose
    assert missing == LEFT_AT_DEVELOPMENT_DEFAULTS | ONLY_WITH_SASL, "set in Kubernetes only"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_runs_locked_down(compose: dict[str, Any], service: str) -> None:
    definition = compose["services"][service]
    assert definition["read_only"] is True
    assert definition["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in definition["security_opt"]


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_accepts_the_settings_compose_gives_it(
    compose: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings are validated as the service validates them at start (Kafka connection too)."""
    for name in list(os.environ):
        if name.startswith(
            ("KAFKA_", "CALLCENTER_", "OTEL_", "DATABASE_URL", f"{service.upper()}_")
        ):
            monkeypatch.delenv(name)
    for name, value in _compose_environment(compose["services"][service]).items():
        monkeypatch.setenv(name, value)
    settings = _settings_class(service)()
    assert settings.environment == "development"
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert str(settings.port) == compose["services"][service]["ports"][0].split(":")[1]
    assert settings.host == "0.0.0.0"
