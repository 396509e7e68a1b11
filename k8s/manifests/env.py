"""The non-secret settings of the services, as env files (ConfigMaps in k8s, env_file in compose).

`common.env` holds what every service reads; `<service>.env` what only that one does. Secrets
(tokens, keys, database URLs, the Kafka password) are not here: they come from Secrets. Nor
are the Kafka user and CA file: they go with the Secret and the volume of each Deployment, and
compose (a plaintext local broker) must not get them (a service refuses SASL or TLS settings
its protocol does not use).
"""

from __future__ import annotations

from pathlib import Path

from manifests.render import HEADER, comment
from manifests.services import STATE_DIR, Service, all_services

BOOTSTRAP = "callcenter-kafka-bootstrap:9093"

COMMON: dict[str, str] = {
    "CALLCENTER_ENV": "production",
    "LOG_LEVEL": "INFO",
    "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "CALLCENTER_CREATE_TOPICS": "false",
    "CALLCENTER_TOPIC_REPLICATION_FACTOR": "3",
    "CALLCENTER_STATE_DIR": STATE_DIR,
    "CALLCENTER_OTEL_ENABLED": "false",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector.monitoring.svc:4318",
}

COMMON_NOTES = """
Settings every service reads, for Kubernetes (Strimzi's TLS listener, topics created by the
topic operator, not by the services). docker-compose.yml reads this file too and overrides
what differs there. Turning OpenTelemetry on (OTLP/HTTP) also needs an egress NetworkPolicy to
the collector.
"""


def env_text(values: dict[str, str]) -> str:
    return "".join(f"{name}={value}\n" for name, value in values.items())


def service_env(service: Service) -> dict[str, str]:
    return {
        f"{service.env_prefix}HOST": "0.0.0.0",
        f"{service.env_prefix}PORT": str(service.port),
    }


def env_files() -> dict[Path, str]:
    source = HEADER.format(source="k8s/manifests/env.py and the services' settings")
    files = {Path("base/env/common.env"): source + comment(COMMON_NOTES) + env_text(COMMON)}
    for service in all_services():
        notes = comment(f"{service.name}'s own settings.")
        files[Path(f"base/env/{service.name}.env")] = (
            source + notes + env_text(service_env(service))
        )
    return files
