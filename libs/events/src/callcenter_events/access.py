"""Which service writes and reads which topic: the single-writer rule, stated once.

The broker enforces it in production (one Strimzi `KafkaUser` per service, ACLs generated from
this table by `k8s/generate.py`); `tests` check the table against the event registry's owners,
so a new event type cannot be written to a topic its service may not write.

Every consumer group of a service starts with its name (`routing`, `routing.owner`,
`surveys-shredder`, `analytics.calls.v2`, ...), after the topic prefix: one prefixed group ACL
per service covers them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from callcenter_events.topics import (
    AGENTS,
    CALLS,
    DEAD_LETTERS,
    DIALER_OWNER,
    PRIVACY,
    ROUTING,
    ROUTING_OWNER,
    SUBJECT_KEYS,
    SURVEYS,
    TENANTS,
    Topic,
)


@dataclass(frozen=True, slots=True)
class ServiceAccess:
    """A service's topics: those it writes (and reads back) and those it only reads."""

    service: str
    writes: tuple[Topic, ...]
    reads: tuple[Topic, ...]

    @property
    def group_prefix(self) -> str:
        """The prefix of every consumer group the service joins (after the topic prefix)."""
        return self.service

    def topics_read(self) -> tuple[Topic, ...]:
        """Every topic it reads: its own (a service replays what it wrote) and the others'."""
        return (*self.writes, *(topic for topic in self.reads if topic not in self.writes))


SERVICES: Final = (
    ServiceAccess(
        "intake",
        writes=(TENANTS, CALLS, PRIVACY, SUBJECT_KEYS, DEAD_LETTERS),
        reads=(ROUTING, SURVEYS),
    ),
    ServiceAccess(
        "routing",
        writes=(ROUTING, AGENTS, TENANTS, DEAD_LETTERS),
        reads=(CALLS, ROUTING_OWNER),
    ),
    ServiceAccess(
        "surveys",
        writes=(SURVEYS, PRIVACY, SUBJECT_KEYS, DEAD_LETTERS),
        reads=(TENANTS, CALLS, ROUTING, AGENTS, DIALER_OWNER),
    ),
    ServiceAccess(
        "analytics",
        writes=(DEAD_LETTERS,),
        reads=(TENANTS, CALLS, ROUTING, AGENTS, SURVEYS),
    ),
)


@dataclass(frozen=True, slots=True)
class AclRule:
    """One broker ACL of a service's user: operations allowed on a resource.

    `resource_type` is `topic`, `group` or `cluster`; `pattern` is `literal` or `prefix`. The
    same rules feed the Strimzi `KafkaUser`s and the local secured broker of the tests.
    """

    resource_type: str
    name: str
    pattern: str
    operations: tuple[str, ...]


def acl_rules(access: ServiceAccess, topic_prefix: str = "") -> list[AclRule]:
    """What a service's user may do: write its topics, read those it reads, use its groups."""
    writes = [
        AclRule("topic", t.name(topic_prefix), "literal", ("Write", "Describe"))
        for t in access.writes
    ]
    reads = [
        AclRule("topic", t.name(topic_prefix), "literal", ("Read", "Describe"))
        for t in access.topics_read()
        if t is not DEAD_LETTERS
    ]
    group = AclRule("group", f"{topic_prefix}{access.group_prefix}", "prefix", ("Read",))
    idempotent = AclRule("cluster", "kafka-cluster", "literal", ("IdempotentWrite",))
    return [*writes, *reads, group, idempotent]


def access_of(service: str) -> ServiceAccess:
    for access in SERVICES:
        if access.service == service:
            return access
    raise KeyError(f"no service named {service!r}")
