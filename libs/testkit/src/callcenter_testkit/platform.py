"""The platform's four services as real processes on free ports, sharing one broker."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from callcenter_events.admin import ensure_topics

from callcenter_testkit.processes import ServiceProcess, free_port

OPERATOR_TOKEN = "e2e-operator-token"
SERVICES = ("intake", "routing", "surveys", "analytics")


@dataclass
class Platform:
    services: dict[str, ServiceProcess]
    topic_prefix: str
    env: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {OPERATOR_TOKEN}"}

    def url(self, service: str) -> str:
        return self.services[service].url

    def restart(self, service: str, timeout: float = 60.0) -> None:
        self.services[service].start().wait_ready(timeout)

    def another(self, service: str) -> ServiceProcess:
        """A second instance of `service` (same settings, same consumer groups), started."""
        assert self.log_dir is not None
        return ServiceProcess(service, port=free_port(), env=self.env, log_dir=self.log_dir).start()


def start_platform(
    kafka_bootstrap: str,
    topic_prefix: str,
    database_url: str,
    log_dir: Path,
    *,
    extra_env: dict[str, str] | None = None,
    only: Sequence[str] = SERVICES,
    ready_timeout: float = 60.0,
) -> Platform:
    """The services named in `only` (all four by default), started and ready."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CALLCENTER_TOPIC_PREFIX": topic_prefix,
        "CALLCENTER_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "DATABASE_URL": database_url,
        "INTAKE_DATABASE_URL": f"sqlite:///{log_dir / 'intake.sqlite3'}",
        "SURVEYS_DATABASE_URL": f"sqlite:///{log_dir / 'surveys.sqlite3'}",
        "ROUTING_DATABASE_URL": f"sqlite:///{log_dir / 'routing.sqlite3'}",
        "LOG_LEVEL": "INFO",
        **(extra_env or {}),
    }
    services = {
        name: ServiceProcess(name, port=free_port(), env=env, log_dir=log_dir).start()
        for name in only
    }
    try:
        for service in services.values():
            service.wait_ready(ready_timeout)
    except BaseException:
        for service in services.values():
            service.stop()
        raise
    return Platform(services, topic_prefix, env, log_dir)


@contextmanager
def fresh_platform(
    kafka_bootstrap: str,
    label: str,
    folder: Path,
    *,
    extra_env: dict[str, str] | None = None,
    ready_timeout: float = 60.0,
) -> Iterator[Platform]:
    """All four services on topics of their own (`<label>-<random>.`, created first) and
    databases in `folder`, for a module or session of tests; stopped afterwards."""
    prefix = f"{label}-{uuid.uuid4().hex[:8]}."
    asyncio.run(ensure_topics(kafka_bootstrap, prefix=prefix))
    database = f"sqlite:///{folder}/analytics.sqlite3"
    running = start_platform(
        kafka_bootstrap, prefix, database, folder, extra_env=extra_env, ready_timeout=ready_timeout
    )
    try:
        yield running
    finally:
        for service in running.services.values():
            service.stop()


async def create_tenant(client: httpx.AsyncClient, platform: Platform, tenant_id: str) -> None:
    answer = await client.post(
        f"{platform.url('intake')}/v1/tenants",
        json={"tenant_id": tenant_id, "name": tenant_id.title()},
        headers=platform.auth,
    )
    assert answer.status_code == 201, answer.text


async def create_api_key(
    client: httpx.AsyncClient, platform: Platform, tenant_id: str, scopes: list[str]
) -> dict[str, str]:
    """A new key of `tenant_id`: `{"key_id", "api_key"}`."""
    answer = await client.post(
        f"{platform.url('intake')}/v1/tenants/{tenant_id}/api-keys",
        json={"scopes": scopes},
        headers=platform.auth,
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, str] = answer.json()
    return created
