"""Creating the platform's topics (idempotent: existing topics are left as they are)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from callcenter_events.connection import KafkaConnection, client_options
from callcenter_events.topics import ALL_TOPICS, Topic

log = structlog.get_logger(__name__)


async def ensure_topics(
    bootstrap_servers: str,
    *,
    prefix: str = "",
    replication_factor: int = 1,
    topics: Iterable[Topic] = ALL_TOPICS,
    connection: KafkaConnection | None = None,
) -> list[str]:
    """Create the topics that do not exist yet; answers the names that were created."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id="topic-setup",
        **client_options(connection),
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for topic in topics if topic.name(prefix) not in existing]
        created = []
        for topic in missing:
            if await _create(admin, topic, prefix, replication_factor):
                created.append(topic.name(prefix))
        if created:
            await _wait_until_known(admin, created)
            log.info("topics_created", topics=created)
        return created
    finally:
        await admin.close()


KNOWN_WAIT_S = 10.0


async def _wait_until_known(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """A created topic is not at once described everywhere: wait until it is (bounded)."""
    deadline = time.monotonic() + KNOWN_WAIT_S
    while True:
        described = await admin.describe_topics(names)
        if all(not t.get("error_code") and t.get("partitions") for t in described):
            return
        if time.monotonic() > deadline:
            log.warning("topics_not_yet_described", topics=names)
            return
        await asyncio.sleep(0.05)


async def _create(
    admin: AIOKafkaAdminClient, topic: Topic, prefix: str, replication_factor: int
) -> bool:
    new_topic = NewTopic(
        name=topic.name(prefix),
        num_partitions=topic.partitions,
        replication_factor=replication_factor,
        topic_configs=topic.config(),
    )
    response = await admin.create_topics([new_topic])
    for _name, code, *message in response.topic_errors:
        if code == TopicAlreadyExistsError.errno:
            return False
        if code != 0:
            raise RuntimeError(f"creating topic {new_topic.name} failed: error {code} {message}")
    return True
