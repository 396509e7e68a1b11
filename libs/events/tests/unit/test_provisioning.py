"""The broker ACL entries provisioning makes from the access table (no broker needed)."""

from __future__ import annotations

from pathlib import Path

from callcenter_events.access import access_of, acl_rules
from callcenter_events.provisioning import OPERATIONS, RESOURCE_TYPES, entries, missing_users
from callcenter_events.topics import CALLS, DEAD_LETTERS

TOPIC, GROUP, CLUSTER = RESOURCE_TYPES["topic"], RESOURCE_TYPES["group"], RESOURCE_TYPES["cluster"]
LITERAL, PREFIXED = 3, 4
READ, WRITE, DESCRIBE = OPERATIONS["Read"], OPERATIONS["Write"], OPERATIONS["Describe"]


def test_a_reader_of_a_topic_gets_read_and_describe_but_not_write() -> None:
    analytics = entries(acl_rules(access_of("analytics"), "p."))
    calls = "p." + CALLS.base_name
    assert {(TOPIC, calls, LITERAL, READ), (TOPIC, calls, LITERAL, DESCRIBE)} <= analytics
    assert (TOPIC, calls, LITERAL, WRITE) not in analytics
    assert (TOPIC, "p." + DEAD_LETTERS.base_name, LITERAL, WRITE) in analytics


def test_the_owner_writes_its_topic_and_every_service_has_its_groups_and_idempotence() -> None:
    intake = entries(acl_rules(access_of("intake")))
    assert (TOPIC, CALLS.name(), LITERAL, WRITE) in intake
    assert (GROUP, "intake", PREFIXED, READ) in intake
    assert (CLUSTER, "kafka-cluster", LITERAL, OPERATIONS["IdempotentWrite"]) in intake


def test_services_without_a_login_are_named(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("admin=a\nintake=b\nrouting=c\n")
    assert missing_users(credentials) == ["surveys", "analytics"]
