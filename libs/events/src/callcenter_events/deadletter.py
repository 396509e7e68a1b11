"""The dead-letter topic: where a record that cannot be processed goes, with the reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import structlog
from prometheus_client import Counter

from callcenter_events.codec import Record
from callcenter_events.envelope import utc_now
from callcenter_events.producer import EventProducer

DEAD_LETTERED = Counter(
    "callcenter_events_dead_lettered_total",
    "Records sent to the dead-letter topic",
    ["source_topic", "group"],
)
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Failed:
    """A consumed record that failed, and where it came from."""

    topic: str
    partition: int
    offset: int
    record: Record
    reason: str


class DeadLetters(Protocol):
    async def send(self, failed: Failed) -> None: ...


class KafkaDeadLetters:
    """Writes failed records unchanged to the dead-letter topic, with `dlq_*` headers added."""

    def __init__(self, producer: EventProducer, topic: str, group_id: str) -> None:
        self._producer = producer
        self._topic = topic
        self._group_id = group_id

    async def send(self, failed: Failed) -> None:
        headers = [
            *failed.record.headers,
            ("dlq_reason", failed.reason.encode()),
            ("dlq_source_topic", failed.topic.encode()),
            ("dlq_source_partition", str(failed.partition).encode()),
            ("dlq_source_offset", str(failed.offset).encode()),
            ("dlq_consumer_group", self._group_id.encode()),
            ("dlq_time", utc_now().isoformat().encode()),
        ]
        record = Record(failed.record.key, failed.record.value, headers)
        await self._producer.send_record(self._topic, record)
        DEAD_LETTERED.labels(failed.topic, self._group_id).inc()
        log.warning(
            "dead_lettered",
            source_topic=failed.topic,
            partition=failed.partition,
            offset=failed.offset,
            reason=failed.reason,
        )
