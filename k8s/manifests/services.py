"""The four services as the manifests need them, read from their settings classes."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.settings import AnalyticsSettings
from callcenter_events.access import SERVICES, ServiceAccess
from callcenter_service import ServiceSettings
from intake.settings import IntakeSettings
from pydantic import AliasChoices
from routing.settings import RoutingSettings
from surveys.settings import SurveysSettings

SETTINGS: dict[str, type[ServiceSettings]] = {
    "intake": IntakeSettings,
    "routing": RoutingSettings,
    "surveys": SurveysSettings,
    "analytics": AnalyticsSettings,
}
IMAGE = "ghcr.io/callcenter-platform/callcenter"
USER_ID = 10001
STATE_DIR = "/var/lib/callcenter/state"
KAFKA_CA_DIR = "/etc/kafka-ca"


@dataclass(frozen=True, slots=True)
class Service:
    """A service: its name (= its Kafka user), HTTP port, env prefix and database URL name."""

    name: str
    port: int
    env_prefix: str
    database_env: str
    access: ServiceAccess

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name, "app.kubernetes.io/part-of": "callcenter"}

    @property
    def selector(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name}


def _only_alias(settings: type[ServiceSettings], field: str) -> str:
    alias = settings.model_fields[field].validation_alias
    assert isinstance(alias, AliasChoices), f"{settings.__name__}.{field} has no env name"
    (name,) = alias.choices
    assert isinstance(name, str)
    return name


def service(access: ServiceAccess) -> Service:
    settings = SETTINGS[access.service]
    port = settings.model_fields["port"].default
    assert isinstance(port, int)
    return Service(
        name=access.service,
        port=port,
        env_prefix=str(settings.model_config.get("env_prefix", "")),
        database_env=_only_alias(settings, "database_url"),
        access=access,
    )


def all_services() -> list[Service]:
    """Every service, in the order of the access table."""
    return [service(access) for access in SERVICES]
