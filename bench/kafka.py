"""Small Kafka helpers of the benchmarks: fresh topics, counting records, cleaning up."""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from callcenter_events import wrap
from callcenter_events.admin import ensure_topics
from callcenter_events.models import TenantCreated, TenantSettings
from callcenter_events.producer import EventProducer
from callcenter_events.topics import Topic


async def create_topic(bootstrap_servers: str, prefix: str, topic: Topic) -> str:
    """Create `<prefix><topic>` with the topic's partitions and settings; fails if it exists."""
    created = await ensure_topics(bootstrap_servers, prefix=prefix, topics=[topic])
    name = topic.name(prefix)
    if created != [name]:
        raise RuntimeError(f"topic {name} already existed; the benchmark needs a fresh one")
    return name


async def publish_tenant(bootstrap_servers: str, prefix: str, tenant_id: str) -> None:
    """Create a tenant (default settings) the way intake does: its event in the tenants topic."""
    producer = EventProducer(bootstrap_servers, client_id="bench", topic_prefix=prefix)
    await producer.start()
    try:
        tenant = TenantCreated(
            tenant_id=tenant_id,
            name=tenant_id.title(),
            settings=TenantSettings(),
            created_at=datetime.now(UTC),
        )
        await producer.publish(wrap(tenant, source="/bench", correlation_id="bench"))
    finally:
        await producer.stop()


async def record_count(bootstrap_servers: str, topic: str, partitions: int) -> int:
    """The number of records in a topic (sum of end offsets; the topic is never compacted)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        return sum(int(offset) for offset in ends.values())
    finally:
        await consumer.stop()


async def delete_topics(bootstrap_servers: str, prefix: str) -> list[str]:
    """Delete every topic whose name starts with `prefix`; answers their names."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="bench-cleanup")
    await admin.start()
    try:
        names = sorted(name for name in await admin.list_topics() if name.startswith(prefix))
        if names:
            await admin.delete_topics(names)
        return names
    finally:
        await admin.close()
