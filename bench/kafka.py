"""Small Kafka helpers of the benchmarks: fresh topics, counting records, cleaning up."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from callcenter_events.admin import ensure_topics
from callcenter_events.topics import Topic


async def create_topic(bootstrap_servers: str, prefix: str, topic: Topic) -> str:
    """Create `<prefix><topic>` with the topic's partitions and settings; fails if it exists."""
    created = await ensure_topics(bootstrap_servers, prefix=prefix, topics=[topic])
    name = topic.name(prefix)
    if created != [name]:
        raise RuntimeError(f"topic {name} already existed; the benchmark needs a fresh one")
    return name


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
