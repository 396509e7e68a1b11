"""Every Kafka topic of the platform, defined in one place.

A topic's name is `<prefix><base name>`; the prefix (empty by default, `CALLCENTER_TOPIC_PREFIX`)
lets test runs and side-by-side environments share one broker without seeing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

FOREVER: Final = -1


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic: its base name, partition key, partitions and broker-side settings."""

    base_name: str
    partition_key: str
    ordering: str
    partitions: int
    retention_ms: int = FOREVER
    extra_config: dict[str, str] = field(default_factory=dict)

    def name(self, prefix: str = "") -> str:
        return f"{prefix}{self.base_name}"

    def config(self) -> dict[str, str]:
        return {
            "retention.ms": str(self.retention_ms),
            "cleanup.policy": "delete",
            **self.extra_config,
        }


TENANTS: Final = Topic(
    base_name="callcenter.tenants.v1",
    partition_key="tenant_id",
    ordering="all events of one tenant (settings, API keys) in the order they were written",
    partitions=1,
)
CALLS: Final = Topic(
    base_name="callcenter.calls.v1",
    partition_key="call_id",
    ordering="the lifecycle of one call as reported to intake (received, hung up, wrapped up)",
    partitions=6,
)
ROUTING: Final = Topic(
    base_name="callcenter.routing.v1",
    partition_key="call_id",
    ordering="the routing of one call (queued, offered, connected); co-partitioned with calls",
    partitions=6,
)
AGENTS: Final = Topic(
    base_name="callcenter.agents.v1",
    partition_key="agent_id",
    ordering="profile and status changes of one agent",
    partitions=3,
)
SURVEYS: Final = Topic(
    base_name="callcenter.surveys.v1",
    partition_key="tenant_id",
    ordering="surveys, customers, campaigns and responses of one tenant",
    partitions=3,
)
PRIVACY: Final = Topic(
    base_name="callcenter.privacy.v1",
    partition_key="tenant_id",
    ordering="the erasures of one tenant's data subjects in the order they were requested",
    partitions=1,
)
KEY_LAG_MS: Final = 6 * 3600 * 1000
SUBJECT_KEYS: Final = Topic(
    base_name="callcenter.subject-keys.v1",
    partition_key="subject_id",
    ordering="the key record of one data subject, then its tombstone when it is erased",
    partitions=3,
    extra_config={
        # Compacted: the latest record per subject; a tombstone (erasure) removes the key
        # from the broker's disk once the cleaner has run: at most `max.compaction.lag.ms`
        # after the segment rolled (`segment.ms`), see docs/privacy.md.
        "cleanup.policy": "compact",
        "segment.ms": str(3600 * 1000),
        "max.compaction.lag.ms": str(KEY_LAG_MS),
        "min.cleanable.dirty.ratio": "0.1",
        "delete.retention.ms": str(24 * 3600 * 1000),
    },
)
DEAD_LETTERS: Final = Topic(
    base_name="callcenter.deadletter.v1",
    partition_key="the key of the original record",
    ordering="none that matters: each record stands alone with its reason",
    partitions=1,
)

ROUTING_OWNER: Final = Topic(
    base_name="callcenter.routing-owner.v1",
    partition_key="none",
    ordering="none: the member of the consumer group `routing.owner` holding its one "
    "partition is routing's single active owner; the others stand by",
    partitions=1,
)

DIALER_OWNER: Final = Topic(
    base_name="callcenter.dialer-owner.v1",
    partition_key="none",
    ordering="none: the member of the consumer group `surveys.dialer` holding its one "
    "partition is the one surveys instance that places campaign calls",
    partitions=1,
)

ALL_TOPICS: Final = (
    TENANTS,
    CALLS,
    ROUTING,
    AGENTS,
    SURVEYS,
    PRIVACY,
    SUBJECT_KEYS,
    DEAD_LETTERS,
    ROUTING_OWNER,
    DIALER_OWNER,
)
