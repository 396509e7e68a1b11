"""Strimzi `KafkaTopic`s (one per topic of libs/events) and `KafkaUser`s (one per service)."""

from __future__ import annotations

from typing import Any

from callcenter_events.access import AclRule, acl_rules
from callcenter_events.topics import ALL_TOPICS, Topic

from manifests.render import comment, yaml_file
from manifests.services import Service, all_services

CLUSTER = "callcenter"
STRIMZI = "kafka.strimzi.io/v1"
REPLICAS = 3


def kafka_topic(topic: Topic) -> dict[str, Any]:
    return {
        "apiVersion": STRIMZI,
        "kind": "KafkaTopic",
        "metadata": {"name": topic.name(), "labels": {"strimzi.io/cluster": CLUSTER}},
        "spec": {
            "topicName": topic.name(),
            "partitions": topic.partitions,
            "replicas": REPLICAS,
            "config": topic.config(),
        },
    }


def acl(rule: AclRule) -> dict[str, Any]:
    resource: dict[str, Any] = {"type": rule.resource_type}
    if rule.resource_type != "cluster":
        resource |= {"name": rule.name, "patternType": rule.pattern}
    return {"type": "allow", "resource": resource, "operations": list(rule.operations)}


def kafka_user(service: Service) -> dict[str, Any]:
    return {
        "apiVersion": STRIMZI,
        "kind": "KafkaUser",
        "metadata": {"name": service.name, "labels": {"strimzi.io/cluster": CLUSTER}},
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {
                "type": "simple",
                "acls": [acl(rule) for rule in acl_rules(service.access)],
            },
        },
    }


def topics_file() -> str:
    return yaml_file(
        "callcenter_events.topics.ALL_TOPICS",
        [kafka_topic(topic) for topic in ALL_TOPICS],
        comment("Partitions and config as in libs/events; the topic operator creates them."),
    )


def users_file() -> str:
    notes = comment(
        """
        One user per service, named as the service: it writes only the topics it owns and
        reads only those it consumes (the single-writer rule, enforced by the broker).
        Strimzi writes each user's password to a Secret of the same name (key `password`).
        """
    )
    return yaml_file(
        "callcenter_events.access (SERVICES, acl_rules)",
        [kafka_user(service) for service in all_services()],
        notes,
    )
