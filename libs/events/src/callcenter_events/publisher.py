"""The interface every service publishes through: the Kafka producer and the in-memory bus."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from callcenter_events.envelope import Envelope, Position


class EventPublisher(Protocol):
    async def publish(self, envelope: Envelope) -> Position:
        """Write one event durably and answer where it landed."""
        ...

    async def publish_all(self, envelopes: Sequence[Envelope]) -> list[Position]:
        """Write several events (pipelined); answers their positions in the same order."""
        ...
