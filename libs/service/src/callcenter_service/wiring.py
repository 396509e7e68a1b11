"""Building a service's Kafka clients from its settings, the same way in every service."""

from __future__ import annotations

from collections.abc import Sequence

from callcenter_events.batch import BatchHandler
from callcenter_events.consumer import LOW_LATENCY, ConsumerTuning, EventConsumer, StartPositions
from callcenter_events.deadletter import KafkaDeadLetters
from callcenter_events.producer import EventProducer
from callcenter_events.reading import Reader
from callcenter_events.topics import DEAD_LETTERS, Topic

from callcenter_service.settings import ServiceSettings


def event_producer(settings: ServiceSettings, client_id: str) -> EventProducer:
    return EventProducer(
        settings.kafka_bootstrap_servers, client_id=client_id, topic_prefix=settings.topic_prefix
    )


def event_consumer(
    settings: ServiceSettings,
    *,
    group: str,
    topics: Sequence[Topic],
    handler: BatchHandler,
    producer: EventProducer,
    types: frozenset[str] | None = None,
    start_positions: StartPositions | None = None,
    tuning: ConsumerTuning = LOW_LATENCY,
) -> EventConsumer:
    """A consumer of `topics` whose malformed records go to the dead-letter topic via `producer`.

    Group ids carry the topic prefix, so environments sharing a broker never share a group.
    """
    prefix = settings.topic_prefix
    return EventConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=f"{prefix}{group}",
        topics=[topic.name(prefix) for topic in topics],
        handler=handler,
        dead_letters=KafkaDeadLetters(producer, DEAD_LETTERS.name(prefix), group),
        reader=Reader(types=types),
        start_positions=start_positions,
        tuning=tuning,
    )
