"""Topics and each service's broker ACLs, made on a broker as its admin.

The local stand-in for Strimzi's Topic and User Operators: `deploy/kafka-secure.sh up` runs

    python -m callcenter_events.provisioning --credentials FILE [--topic-prefix PREFIX]

logged in through the environment's connection settings (`callcenter_events.connection`, as
admin). The ACLs are `access.acl_rules` of every service, the rules the `KafkaUser`s carry.
aiokafka 0.14's admin client has no `create_acls`, so the CreateAcls requests are sent through
its client (`AIOKafkaClient.send`); it returns once the broker describes every ACL (they reach
the authorizer through the metadata log, a moment after they are accepted).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.admin import CreateAclsRequest, DescribeAclsRequest

from callcenter_events.access import SERVICES, AclRule, acl_rules
from callcenter_events.admin import ensure_topics
from callcenter_events.connection import KafkaConnection, client_options

RESOURCE_TYPES = {"topic": 2, "group": 3, "cluster": 4}
PATTERN_TYPES = {"literal": 3, "prefix": 4}
OPERATIONS = {"Read": 3, "Write": 4, "Create": 5, "Describe": 8, "IdempotentWrite": 12}
ANY, ALLOW = 1, 3
VISIBLE_WAIT_S = 15.0

AclEntry = tuple[int, str, int, int]
"""(resource type, resource name, pattern type, operation) of one allowing ACL."""


def entries(rules: Iterable[AclRule]) -> set[AclEntry]:
    """The broker's ACL entries of a service's rules: one per resource and operation."""
    return {
        (
            RESOURCE_TYPES[rule.resource_type],
            rule.name,
            PATTERN_TYPES[rule.pattern],
            OPERATIONS[operation],
        )
        for rule in rules
        for operation in rule.operations
    }


async def grant(
    client: AIOKafkaClient, principal: str, wanted: set[AclEntry], *, timeout_s: float
) -> None:
    """Create the ACLs of `principal`, then wait (bounded) until the broker describes them."""
    node = client.get_random_node()
    for resource_type, name, pattern, operation in sorted(wanted):
        request = CreateAclsRequest(resource_type, name, pattern, principal, "*", operation, ALLOW)
        response: Any = await client.send(node, request)
        for code, message in response.creation_responses:
            if code:
                raise RuntimeError(f"CreateAcls {principal} {name}: error {code} {message}")
    deadline = time.monotonic() + timeout_s
    while not wanted <= await described(client, principal):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the ACLs of {principal} were not visible within {timeout_s} s")
        await asyncio.sleep(0.1)


async def described(client: AIOKafkaClient, principal: str) -> set[AclEntry]:
    """The allowing ACL entries the broker holds for `principal`."""
    request = DescribeAclsRequest(ANY, None, ANY, principal, None, ANY, ALLOW)
    response: Any = await client.send(client.get_random_node(), request)
    if response.error_code:
        raise RuntimeError(f"DescribeAcls {principal}: error {response.error_code}")
    return {
        (resource_type, name, pattern, operation)
        for resource_type, name, pattern, acls in response.resources
        for _principal, _host, operation, _permission in acls
    }


async def provision(
    bootstrap_servers: str,
    *,
    topic_prefix: str = "",
    connection: KafkaConnection | None = None,
    timeout_s: float = VISIBLE_WAIT_S,
) -> dict[str, int]:
    """Create the platform's topics and every service's ACLs; answers ACL entries per user."""
    await ensure_topics(bootstrap_servers, prefix=topic_prefix, connection=connection)
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap_servers, client_id="provisioning", **client_options(connection)
    )
    await client.bootstrap()
    try:
        granted = {}
        for access in SERVICES:
            wanted = entries(acl_rules(access, topic_prefix))
            await grant(client, f"User:{access.service}", wanted, timeout_s=timeout_s)
            granted[access.service] = len(wanted)
        return granted
    finally:
        await client.close()


def missing_users(credentials: Path) -> list[str]:
    """Services without a login in a `user=password` file (the script and SERVICES drifted)."""
    users = {line.split("=", 1)[0] for line in credentials.read_text().splitlines() if line}
    return [access.service for access in SERVICES if access.service not in users]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m callcenter_events.provisioning")
    parser.add_argument("--credentials", type=Path, help="user=password lines, checked")
    parser.add_argument("--topic-prefix", default=os.environ.get("CALLCENTER_TOPIC_PREFIX", ""))
    args = parser.parse_args(argv)
    if args.credentials is not None and (missing := missing_users(args.credentials)):
        parser.error(f"no SCRAM user for {', '.join(missing)} in {args.credentials}")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")
    granted = asyncio.run(provision(bootstrap, topic_prefix=args.topic_prefix))
    for user, count in granted.items():
        print(f"{user}: {count} ACL entries")


if __name__ == "__main__":
    main()
