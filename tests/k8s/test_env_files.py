"""Every name in the env files (ConfigMaps, compose env_file) is a setting a service reads."""

from __future__ import annotations

from pathlib import Path

from analytics.settings import AnalyticsSettings
from callcenter_events.connection import KafkaConnection
from callcenter_testkit.k8s.tools import K8S
from intake.settings import IntakeSettings
from pydantic import AliasChoices
from pydantic_settings import BaseSettings
from routing.settings import RoutingSettings
from surveys.settings import SurveysSettings

SETTINGS: tuple[type[BaseSettings], ...] = (
    KafkaConnection,
    IntakeSettings,
    RoutingSettings,
    SurveysSettings,
    AnalyticsSettings,
)
# Read by the OpenTelemetry SDK itself (callcenter_service.telemetry), not by a settings class.
READ_BY_OPENTELEMETRY = {"OTEL_EXPORTER_OTLP_ENDPOINT"}


def env_names(settings: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads (aliases, else prefix + field name)."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names = set()
    for field_name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {choice for choice in alias.choices if isinstance(choice, str)}
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def names_in(path: Path) -> set[str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


def test_every_env_name_is_read_by_a_service() -> None:
    known = set().union(*(env_names(s) for s in SETTINGS)) | READ_BY_OPENTELEMETRY
    files = sorted((K8S / "base" / "env").glob("*.env"))

    unknown = {path.name: sorted(names_in(path) - known) for path in files}

    assert [path.name for path in files] == [
        "analytics.env",
        "common.env",
        "intake.env",
        "routing.env",
        "surveys.env",
    ]
    assert unknown == {name: [] for name in unknown}


def test_a_service_env_file_names_its_port() -> None:
    intake = names_in(K8S / "base" / "env" / "intake.env")

    assert {"INTAKE_HOST", "INTAKE_PORT"} <= intake
    assert "KAFKA_SASL_USERNAME" not in intake  # with its password in the Deployment
    assert "INTAKE_PORT" in env_names(IntakeSettings)
