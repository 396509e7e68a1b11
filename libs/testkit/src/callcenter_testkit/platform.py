"""The platform's four services as real processes on free ports, sharing one broker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from callcenter_testkit.processes import ServiceProcess, free_port

OPERATOR_TOKEN = "e2e-operator-token"
SERVICES = ("intake", "routing", "surveys", "analytics")


@dataclass
class Platform:
    services: dict[str, ServiceProcess]
    topic_prefix: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {OPERATOR_TOKEN}"}

    def url(self, service: str) -> str:
        return self.services[service].url

    def restart(self, service: str) -> None:
        self.services[service].start().wait_ready()


def start_platform(
    kafka_bootstrap: str, topic_prefix: str, database_url: str, log_dir: Path
) -> Platform:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CALLCENTER_TOPIC_PREFIX": topic_prefix,
        "CALLCENTER_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
    }
    services = {
        name: ServiceProcess(name, port=free_port(), env=env, log_dir=log_dir).start()
        for name in SERVICES
    }
    for service in services.values():
        service.wait_ready()
    return Platform(services, topic_prefix)
