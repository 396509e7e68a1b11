"""docs/events.md lists every topic and event type as the code defines them."""

from __future__ import annotations

from pathlib import Path

from callcenter_events import ALL_TOPICS, REGISTRY
from callcenter_events.asyncapi import asyncapi_document, render
from callcenter_events.personal import personal_fields

DOC = Path(__file__).resolve().parents[4] / "docs" / "events.md"


def _rows() -> list[list[str]]:
    return [
        [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        for line in DOC.read_text().splitlines()
        if line.startswith("| `")
    ]


def test_every_event_type_is_documented_with_owner_version_topic_and_personal_fields() -> None:
    documented = {row[0]: row[1:] for row in _rows() if len(row) == 6}
    for spec in REGISTRY.specs():
        personal = ", ".join(f"`{f}`" for f in sorted(personal_fields(spec.model))) or "—"
        expected = [str(spec.version), spec.owner, spec.topic.name(), spec.key_field, personal]
        assert documented.get(spec.event_type) == [c.strip("`") for c in expected]


def test_every_topic_is_documented_with_key_and_partitions() -> None:
    documented = {row[0]: row[1:3] for row in _rows() if len(row) == 5}
    for topic in ALL_TOPICS:
        key = documented[topic.name()][0]
        assert key.strip("`") == topic.partition_key or key == "key of the original record"
        assert documented[topic.name()][1] == str(topic.partitions)


def test_the_committed_asyncapi_document_is_current() -> None:
    committed = (DOC.parent / "asyncapi.json").read_bytes()
    assert committed == render(asyncapi_document()), "run: python -m callcenter_events.asyncapi"


def test_a_service_document_has_only_its_operations() -> None:
    document = asyncapi_document(sends=["call.queued"], receives=["call.received"])
    assert sorted(document["operations"]) == ["receive call.received", "send call.queued"]
    assert sorted(document["components"]["messages"]) == ["call_queued", "call_received"]
