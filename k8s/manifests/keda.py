"""The KEDA component: a `ScaledObject` per service whose load is consumer lag.

Each scales on the lag of the consumer group that carries its load, and on CPU (KEDA replaces
the base HPA of the service: two HPAs on one Deployment fight, so the component deletes it).
`maxReplicaCount` is the most partitions among the group's topics: a replica more would get
no partition. Routing has none: its one active owner does the work, more replicas only stand by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analytics.projections.calls import CallsProjection
from callcenter_events.access import access_of
from callcenter_events.topics import CALLS, ROUTING, SURVEYS, Topic

from manifests.env import BOOTSTRAP
from manifests.render import comment, dump, yaml_file
from manifests.workloads import CLUSTER_CA, DEFAULT_MAX_REPLICAS

KEDA = "keda.sh/v1alpha1"
LAG_THRESHOLD = "500"


@dataclass(frozen=True, slots=True)
class LagConsumer:
    """A service's consumer group whose lag says it needs more replicas, and its topics."""

    service: str
    group: str
    topics: tuple[Topic, ...]

    @property
    def max_replicas(self) -> int:
        return min(DEFAULT_MAX_REPLICAS, max(topic.partitions for topic in self.topics))


LAG_CONSUMERS = (
    # intake places the campaign calls the surveys topic asks for (services/intake app.py).
    LagConsumer("intake", "intake.outbound", (SURVEYS,)),
    # surveys follows every call to offer post-call surveys (services/surveys app.py).
    LagConsumer("surveys", "surveys", (CALLS, ROUTING)),
    # analytics' heaviest projection; a rebuild (generation g1, ...) uses a group of its own.
    LagConsumer(
        "analytics",
        f"analytics.{CallsProjection.name}.v{CallsProjection.version}",
        CallsProjection.topics,
    ),
)


def check_topics(consumer: LagConsumer) -> None:
    readable = [topic.name() for topic in access_of(consumer.service).topics_read()]
    unknown = [topic.name() for topic in consumer.topics if topic.name() not in readable]
    assert not unknown, f"{consumer.service} does not read {unknown}"


def trigger_authentication(consumer: LagConsumer) -> dict[str, Any]:
    """KEDA logs in as the service's own Kafka user (it may describe its groups)."""
    return {
        "apiVersion": KEDA,
        "kind": "TriggerAuthentication",
        "metadata": {"name": f"{consumer.service}-kafka"},
        "spec": {
            "env": [
                {
                    "parameter": "username",
                    "name": "KAFKA_SASL_USERNAME",
                    "containerName": consumer.service,
                }
            ],
            "secretTargetRef": [
                {"parameter": "password", "name": consumer.service, "key": "password"},
                {"parameter": "ca", "name": CLUSTER_CA, "key": "ca.crt"},
            ],
        },
    }


def scaled_object(consumer: LagConsumer) -> dict[str, Any]:
    check_topics(consumer)
    lag = {
        "bootstrapServers": BOOTSTRAP,
        "consumerGroup": consumer.group,
        "lagThreshold": LAG_THRESHOLD,
        "sasl": "scram_sha512",
        "tls": "enable",
    }
    if len(consumer.topics) == 1:
        lag["topic"] = consumer.topics[0].name()
    return {
        "apiVersion": KEDA,
        "kind": "ScaledObject",
        "metadata": {"name": consumer.service},
        "spec": {
            "scaleTargetRef": {"name": consumer.service},
            "minReplicaCount": 2,
            "maxReplicaCount": consumer.max_replicas,
            "triggers": [
                {
                    "type": "kafka",
                    "metadata": lag,
                    "authenticationRef": {"name": f"{consumer.service}-kafka"},
                },
                {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}},
            ],
        },
    }


def scaled_objects_file() -> str:
    documents = []
    for consumer in LAG_CONSUMERS:
        documents += [trigger_authentication(consumer), scaled_object(consumer)]
    return yaml_file("k8s/manifests/keda.py (consumer groups, topic partitions)", documents)


def delete_hpa(service: str) -> dict[str, Any]:
    hpa = "$patch: delete\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
    return {"patch": hpa + f"metadata:\n  name: {service}\n"}


def keda_peer_patch() -> dict[str, Any]:
    """The KEDA operator (namespace `keda`) reads the consumer groups' lag from the brokers."""
    peer = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}}
    operation = {"op": "add", "path": "/spec/kafka/listeners/0/networkPolicyPeers/-", "value": peer}
    return {
        "target": {"group": "kafka.strimzi.io", "kind": "Kafka", "name": "callcenter"},
        "patch": dump([operation]),
    }


def kustomization_file() -> str:
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1alpha1",
        "kind": "Component",
        "resources": ["scaledobjects.yaml"],
        "patches": [*(delete_hpa(c.service) for c in LAG_CONSUMERS), keda_peer_patch()],
    }
    notes = comment(
        "Opt-in: add `components: [../../components/keda]` to an overlay (KEDA installed)."
    )
    return yaml_file("k8s/manifests/keda.py", [kustomization], notes)
