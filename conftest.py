"""Fixtures shared by every package's tests: the real broker, PostgreSQL, isolated topics.

The broker is the one `make infra-up` starts (or the one `KAFKA_BOOTSTRAP_SERVERS` names);
where a Docker engine exists and no broker is named, testcontainers starts one. PostgreSQL is
the server `CALLCENTER_TEST_POSTGRES_URL` names (`make test` starts one); each test gets a
fresh database on it. Every test gets its own topic prefix, so tests never see each other's
events even on a shared broker.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from callcenter_events.admin import ensure_topics
from callcenter_events.producer import EventProducer
from callcenter_testkit.secured import SecuredBroker, start_secured_broker
from callcenter_testkit.tally import summary_lines
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    named = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if named:
        yield named
        return
    if _docker_engine():
        from testcontainers.community.kafka import (  # type: ignore[import-not-found]  # noqa: PLC0415
            KafkaContainer,
        )

        with KafkaContainer("confluentinc/cp-kafka:8.0.0").with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
        return
    pytest.fail("No Kafka broker: run `make infra-up` or set KAFKA_BOOTSTRAP_SERVERS")


def _docker_engine() -> bool:
    return shutil.which("docker") is not None and os.path.exists("/var/run/docker.sock")


@pytest.fixture
async def topic_prefix(kafka_bootstrap: str) -> str:
    prefix = f"test-{uuid.uuid4().hex[:10]}."
    await ensure_topics(kafka_bootstrap, prefix=prefix)
    return prefix


@pytest.fixture
async def producer(kafka_bootstrap: str, topic_prefix: str) -> AsyncIterator[EventProducer]:
    """An `EventProducer` on the test's own topics, started and stopped around the test."""
    producer = EventProducer(kafka_bootstrap, client_id="test", topic_prefix=topic_prefix)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    url = os.environ.get("CALLCENTER_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    if _docker_engine():
        from testcontainers.community.postgres import (  # type: ignore[import-not-found]  # noqa: PLC0415
            PostgresContainer,
        )

        with PostgresContainer("postgres:17", driver="psycopg") as postgres:
            yield postgres.get_connection_url()
        return
    pytest.fail("No PostgreSQL: run `make infra-up` or set CALLCENTER_TEST_POSTGRES_URL")


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def secured_kafka() -> Iterator[SecuredBroker]:
    """The local broker with TLS, SCRAM users and ACLs (`deploy/kafka-secure.sh`), shared."""
    broker = start_secured_broker()
    yield broker
    broker.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every store test runs on both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What the fault suite and the fuzzers exercised (`callcenter_testkit.tally`)."""
    lines = summary_lines()
    if lines:
        terminalreporter.section("counts")
        for line in lines:
            terminalreporter.write_line(line)
