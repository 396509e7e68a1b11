"""The table of who writes and reads which topic agrees with the event registry."""

from __future__ import annotations

import pytest
from callcenter_events import models  # noqa: F401  (registers every event type)
from callcenter_events.access import SERVICES, access_of, acl_rules
from callcenter_events.registry import REGISTRY, EventSpec
from callcenter_events.topics import ALL_TOPICS, DEAD_LETTERS, SUBJECT_KEYS


@pytest.mark.parametrize("spec", REGISTRY.specs(), ids=lambda spec: spec.event_type)
def test_every_event_type_is_written_by_a_service_allowed_to_write_its_topic(
    spec: EventSpec,
) -> None:
    assert spec.topic in access_of(spec.owner).writes


def test_a_service_writes_no_topic_none_of_its_event_types_lives_in() -> None:
    """Beyond its event types' topics: the dead letters, and the key store's topic."""
    for access in SERVICES:
        owned = {spec.topic.base_name for spec in REGISTRY.specs() if spec.owner == access.service}
        extra = {topic.base_name for topic in access.writes} - owned
        assert extra <= {DEAD_LETTERS.base_name, SUBJECT_KEYS.base_name}, access.service


def test_every_topic_is_read_and_every_service_may_write_dead_letters() -> None:
    read = {topic.base_name for access in SERVICES for topic in access.topics_read()}
    assert {topic.base_name for topic in ALL_TOPICS} <= read
    assert all(DEAD_LETTERS in access.writes for access in SERVICES)


def test_an_unknown_service_is_refused() -> None:
    with pytest.raises(KeyError):
        access_of("billing")


def test_acl_rules_let_a_service_write_only_its_own_topics_and_use_only_its_groups() -> None:
    rules = acl_rules(access_of("analytics"), topic_prefix="t-")
    written = {rule.name for rule in rules if "Write" in rule.operations}
    assert written == {"t-callcenter.deadletter.v1"}
    read = {
        rule.name for rule in rules if "Read" in rule.operations and rule.resource_type == "topic"
    }
    assert "t-callcenter.calls.v1" in read
    assert "t-callcenter.deadletter.v1" not in read
    groups = [rule for rule in rules if rule.resource_type == "group"]
    assert [(g.name, g.pattern) for g in groups] == [("t-analytics", "prefix")]
