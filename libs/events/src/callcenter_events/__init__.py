"""Events of the call-center platform: models, CloudEvents envelope, codec, topics, Kafka I/O.

Import `callcenter_events.models` to register the event types.
"""

from callcenter_events import models
from callcenter_events.batch import Batch, BatchHandler, TransientError
from callcenter_events.codec import MalformedEventError, Record, decode, encode
from callcenter_events.envelope import Envelope, Position, derived_event_id, utc_now, wrap
from callcenter_events.publisher import EventPublisher
from callcenter_events.registry import REGISTRY, Event
from callcenter_events.topics import ALL_TOPICS, Topic

__all__ = [
    "ALL_TOPICS",
    "REGISTRY",
    "Batch",
    "BatchHandler",
    "Envelope",
    "Event",
    "EventPublisher",
    "MalformedEventError",
    "Position",
    "Record",
    "Topic",
    "TransientError",
    "decode",
    "derived_event_id",
    "encode",
    "models",
    "utc_now",
    "wrap",
]
