"""A batch of consumed events, and the handler interface every consumer calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from callcenter_events.envelope import Envelope

TopicPartition = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Batch:
    """Events consumed together, and the next offset to read per partition once it is handled.

    `next_offsets` covers every record of the batch, also those that were skipped or sent to the
    dead-letter topic, so a projection that stores it never reads them again.
    """

    envelopes: list[Envelope]
    next_offsets: dict[TopicPartition, int] = field(default_factory=dict)


BatchHandler = Callable[[Batch], Awaitable[None]]


class TransientError(Exception):
    """A failure worth retrying as it is (a database that is briefly away), never dead-lettered."""
