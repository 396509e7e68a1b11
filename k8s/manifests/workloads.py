"""Per service: Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler, NetworkPolicy.

One shape for the four services (one image, the command picks the service); what differs comes
from their settings (port, env prefix, database URL name) and their Kafka user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from manifests.kafka import CLUSTER
from manifests.render import comment, yaml_file
from manifests.services import IMAGE, KAFKA_CA_DIR, STATE_DIR, USER_ID, Service, all_services

COMMON_CONFIG = "callcenter-common"
SECRETS = "callcenter-secrets"
DATABASES = "callcenter-databases"
CLUSTER_CA = f"{CLUSTER}-cluster-ca-cert"
INGRESS_NAMESPACE = "ingress-nginx"
MONITORING_NAMESPACE = "monitoring"
GRACE_SECONDS = 30
# Routing has one active owner (the member holding the one partition of routing-owner); more
# replicas are standbys that take over within seconds, not more capacity: keep the max small.
MAX_REPLICAS = {"routing": 3}
DEFAULT_MAX_REPLICAS = 6
CHECKOV_SKIPS = {
    "checkov.io/skip1": "CKV_K8S_43=the tag is pinned by each overlay (images:); a release "
    "pins the digest there too",
    "checkov.io/skip2": "CKV_K8S_35=the services read their settings from the environment "
    "only (pydantic-settings); the Secrets are never written to disk or logs",
}


def http_probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def pod_security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": USER_ID,
        "runAsGroup": USER_ID,
        "fsGroup": USER_ID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": USER_ID,
        "runAsGroup": USER_ID,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


PRE_STOP_SECONDS = 5
"""Then SIGTERM: uvicorn drains for up to 10 s, consumers finish their batch (up to 5 s)."""


def resources() -> dict[str, Any]:
    return {
        "requests": {"cpu": "100m", "memory": "256Mi", "ephemeral-storage": "256Mi"},
        "limits": {"cpu": "1", "memory": "512Mi", "ephemeral-storage": "1Gi"},
    }


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def container(service: Service) -> dict[str, Any]:
    return {
        "name": service.name,
        "image": IMAGE,
        "imagePullPolicy": "Always",
        "command": ["python", "-m", service.name],
        "ports": [{"name": "http", "containerPort": service.port, "protocol": "TCP"}],
        "envFrom": [
            {"configMapRef": {"name": COMMON_CONFIG}},
            {"configMapRef": {"name": f"{service.name}-env"}},
            {"secretRef": {"name": SECRETS}},
        ],
        "env": [
            secret_env(service.database_env, DATABASES, service.database_env),
            # The KafkaUser of the service's name; Strimzi's user operator writes its password.
            {"name": "KAFKA_SASL_USERNAME", "value": service.name},
            secret_env("KAFKA_SASL_PASSWORD", service.name, "password"),
            # The cluster CA, mounted below (the file exists only with that volume).
            {"name": "KAFKA_SSL_CAFILE", "value": f"{KAFKA_CA_DIR}/ca.crt"},
        ],
        # Kubernetes removes the pod from the Service's endpoints while SIGTERM is on its way;
        # waiting a few seconds first keeps requests routed in that moment from being refused.
        "lifecycle": {"preStop": {"sleep": {"seconds": PRE_STOP_SECONDS}}},
        "startupProbe": http_probe("/livez", period=2, failures=60),
        "livenessProbe": http_probe("/livez", period=10, failures=3),
        "readinessProbe": http_probe("/readyz", period=5, failures=3),
        "resources": resources(),
        "securityContext": container_security(),
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "state", "mountPath": STATE_DIR},
            {"name": "kafka-ca", "mountPath": KAFKA_CA_DIR, "readOnly": True},
        ],
    }


def volumes() -> list[dict[str, Any]]:
    return [
        {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
        {"name": "state", "emptyDir": {"sizeLimit": "512Mi"}},
        {
            "name": "kafka-ca",
            "secret": {"secretName": CLUSTER_CA, "items": [{"key": "ca.crt", "path": "ca.crt"}]},
        },
    ]


def deployment(service: Service) -> dict[str, Any]:
    pod = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": GRACE_SECONDS,
        "securityContext": pod_security(),
        "containers": [container(service)],
        "volumes": volumes(),
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service.name, "labels": service.labels, "annotations": CHECKOV_SKIPS},
        # No `replicas`: the HPA (or KEDA's) owns the count; an applied one would reset it.
        "spec": {
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": service.selector},
            "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {"metadata": {"labels": service.labels}, "spec": pod},
        },
    }


def http_service(service: Service) -> dict[str, Any]:
    port = {"name": "http", "port": service.port, "targetPort": "http", "protocol": "TCP"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service.name, "labels": service.labels},
        "spec": {"type": "ClusterIP", "selector": service.selector, "ports": [port]},
    }


def disruption_budget(service: Service) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": service.name, "labels": service.labels},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": service.selector}},
    }


def autoscaler(service: Service) -> dict[str, Any]:
    cpu = {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": service.name, "labels": service.labels},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name},
            "minReplicas": 2,
            "maxReplicas": MAX_REPLICAS.get(service.name, DEFAULT_MAX_REPLICAS),
            "metrics": [{"type": "Resource", "resource": cpu}],
        },
    }


def namespace_peer(namespace: str, port: int) -> dict[str, Any]:
    selector = {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
    return {"from": [{"namespaceSelector": selector}], "ports": [{"protocol": "TCP", "port": port}]}


def dns_egress() -> dict[str, Any]:
    kube_system = {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}
    return {
        "to": [
            {
                "namespaceSelector": kube_system,
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }


def kafka_egress() -> dict[str, Any]:
    brokers = {"strimzi.io/cluster": CLUSTER, "strimzi.io/kind": "Kafka"}
    return {
        "to": [{"podSelector": {"matchLabels": brokers}}],
        "ports": [{"protocol": "TCP", "port": 9093}],
    }


def network_policy(service: Service) -> dict[str, Any]:
    """Ingress to its HTTP port from the ingress controller and Prometheus; egress to Kafka, DNS.

    Its database is reached through a policy of the overlay (`<service>-database`): a pod in dev,
    an address range in prod.
    """
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": service.name, "labels": service.labels},
        "spec": {
            "podSelector": {"matchLabels": service.selector},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                namespace_peer(INGRESS_NAMESPACE, service.port),
                namespace_peer(MONITORING_NAMESPACE, service.port),
            ],
            "egress": [kafka_egress(), dns_egress()],
        },
    }


def notes(service: Service) -> str:
    if service.name != "routing":
        return ""
    return comment(
        """
        Routing has exactly one active owner (the member of consumer group routing.owner that
        holds the one partition of the routing-owner topic); the other replicas stand by and take
        over within seconds. Scaling it adds standbys, not capacity: its maximum stays small.
        """
    )


def workload_files() -> dict[Path, str]:
    return {
        Path(f"base/services/{service.name}.yaml"): yaml_file(
            "k8s/manifests/workloads.py and the service's settings",
            [
                deployment(service),
                http_service(service),
                disruption_budget(service),
                autoscaler(service),
                network_policy(service),
            ],
            notes(service),
        )
        for service in all_services()
    }
