"""SIGTERM to each service under load: it exits 0 within the grace period, loses nothing it
acknowledged, refuses what comes after the signal, and leaves its positions committed.

Positions are checked where each service keeps them: the offsets its consumer group committed
cover every record whose effect is in the log or in its database (routing's facts name the call
event they answer; surveys remembers every call it followed), and a projection's stored
positions are exactly what its rows were built from.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import httpx
import pytest
from callcenter_events import Envelope
from callcenter_events.models import CallReceived
from callcenter_events.topics import AGENTS, CALLS, ROUTING, SURVEYS
from callcenter_testkit import eventually
from callcenter_testkit.platform import Platform, create_tenant, start_platform
from callcenter_testkit.shutdown import (
    GRACE_PERIOD_S,
    Answers,
    Send,
    WriteLoad,
    committed_offsets,
    consumed,
    terminate,
)
from callcenter_testkit.traces import log_events

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.timeout(180)]

TENANT = "acme"
WRITERS = 8
BEFORE_SIGNAL = 150
"""Acknowledged writes (and consumed records) before the signal: the service is busy."""
SURVEY = {
    "tenant_id": TENANT,
    "name": "After the call",
    "kind": "post_call",
    "questions": [{"id": "nps", "type": "nps", "text": "Recommend us?", "required": True}],
}
Start = Callable[..., Platform]


@pytest.fixture(params=["sqlite"])
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'analytics.sqlite3'}"


@pytest.fixture
def start(
    kafka_bootstrap: str, topic_prefix: str, database_url: str, tmp_path: Path
) -> Iterator[Start]:
    """Starts the named services (stopped at the end of the test, if still running)."""
    started: list[Platform] = []

    def starting(*names: str) -> Platform:
        platform = start_platform(kafka_bootstrap, topic_prefix, database_url, tmp_path, only=names)
        started.append(platform)
        return platform

    yield starting
    for platform in started:
        for service in platform.services.values():
            service.stop()


def _calls_to(url: str) -> Send:
    def send(client: httpx.AsyncClient, number: int) -> Awaitable[httpx.Response]:
        body = {"tenant_id": TENANT, "customer_ref": f"c-{number}", "language": "de"}
        return client.post(f"{url}/v1/calls", json=body | {"topic": "billing"})

    return send


async def test_intake_stops_cleanly_under_load(
    start: Start, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    platform = start("intake")
    async with _client(platform) as client:
        await create_tenant(client, platform, TENANT)
        load = WriteLoad(client, _calls_to(platform.url("intake")), writers=WRITERS)
        await _acknowledged(load, BEFORE_SIGNAL)
        code, seconds = await terminate(platform.services["intake"], load)
        answers = await _refused_then_stopped(load)
    _stopped_cleanly("intake", code, seconds, answers)
    calls = await log_events(kafka_bootstrap, [CALLS.name(topic_prefix)])
    _every_acknowledged_logged(answers, calls, "call_id")
    _positions_match_rows(tmp_path / "intake.sqlite3", "intake_calls@v2", "intake_calls_v2", calls)


async def test_routing_stops_cleanly_under_load(
    start: Start, kafka_bootstrap: str, topic_prefix: str
) -> None:
    platform = start("intake", "routing")
    group = f"{topic_prefix}routing"
    async with _client(platform) as client:
        await create_tenant(client, platform, TENANT)
        calls = WriteLoad(client, _calls_to(platform.url("intake")), writers=WRITERS // 2)
        agents = WriteLoad(client, _agents_to(platform.url("routing")), writers=WRITERS)
        await _acknowledged(agents, BEFORE_SIGNAL)
        await _consumed(client, platform.url("routing"), group)
        code, seconds = await terminate(platform.services["routing"], agents)
        answers = await _refused_then_stopped(agents)
        await calls.stop()
    _stopped_cleanly("routing", code, seconds, answers)
    topics = [CALLS.name(topic_prefix), ROUTING.name(topic_prefix), AGENTS.name(topic_prefix)]
    events = await log_events(kafka_bootstrap, topics)
    _every_acknowledged_logged(answers, events, "agent_id")
    answered = {e.causation_id for e in events if e.position and e.position.topic == topics[1]}
    handled = [e for e in events if e.id in answered]
    await _committed_cover(kafka_bootstrap, group, handled)


async def test_surveys_stops_cleanly_under_load(
    start: Start, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    platform = start("intake", "surveys")
    group = f"{topic_prefix}surveys"
    async with _client(platform) as client:
        await create_tenant(client, platform, TENANT)
        survey_id = await _survey(client, platform.url("surveys"))
        calls = WriteLoad(client, _calls_to(platform.url("intake")), writers=WRITERS // 2)
        responses = WriteLoad(client, _responses_to(platform.url("surveys"), survey_id))
        await _acknowledged(responses, BEFORE_SIGNAL)
        await _consumed(client, platform.url("surveys"), group)
        code, seconds = await terminate(platform.services["surveys"], responses)
        answers = await _refused_then_stopped(responses)
        await calls.stop()
    _stopped_cleanly("surveys", code, seconds, answers)
    topics = [CALLS.name(topic_prefix), SURVEYS.name(topic_prefix)]
    events = await log_events(kafka_bootstrap, topics)
    _every_acknowledged_logged(answers, events, "response_id")
    followed = _column(tmp_path / "surveys.sqlite3", "SELECT call_id FROM surveys_followed_calls")
    handled = [e for e in events if isinstance(e.data, CallReceived) and e.data.call_id in followed]
    await _committed_cover(kafka_bootstrap, group, handled)


async def test_analytics_stops_cleanly_under_load(
    start: Start, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
) -> None:
    platform = start("intake", "analytics")
    async with _client(platform) as client:
        await create_tenant(client, platform, TENANT)
        calls = WriteLoad(client, _calls_to(platform.url("intake")), writers=WRITERS)
        reads = WriteLoad(client, _reads_of(platform.url("analytics")), writers=WRITERS // 2)
        await _acknowledged(calls, BEFORE_SIGNAL)
        await _acknowledged(reads, BEFORE_SIGNAL)
        await _projected(client, platform.url("analytics"), "calls", BEFORE_SIGNAL)
        code, seconds = await terminate(platform.services["analytics"], reads)
        answers = await _refused_then_stopped(reads)
        await calls.stop()
    _stopped_cleanly("analytics", code, seconds, answers)
    events = await log_events(kafka_bootstrap, [CALLS.name(topic_prefix)])
    _positions_match_rows(tmp_path / "analytics.sqlite3", "calls@v2", "analytics_calls", events)


# -- driving ------------------------------------------------------------------------------------


def _client(platform: Platform) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=2 * WRITERS)
    return httpx.AsyncClient(headers=platform.auth, timeout=30, limits=limits)


def _agents_to(url: str) -> Send:
    def send(client: httpx.AsyncClient, number: int) -> Awaitable[httpx.Response]:
        body = {"name": f"Agent {number}", "skills": {"lang:de": 5, "topic:billing": 5}}
        return client.put(f"{url}/v1/agents/a-{number}", json=body)

    return send


def _responses_to(url: str, survey_id: str) -> Send:
    def send(client: httpx.AsyncClient, number: int) -> Awaitable[httpx.Response]:
        body = {"customer_ref": f"c-{number}", "answers": {"nps": number % 11}}
        return client.post(f"{url}/v1/surveys/{survey_id}/responses", json=body)

    return send


def _reads_of(url: str) -> Send:
    def send(client: httpx.AsyncClient, _number: int) -> Awaitable[httpx.Response]:
        return client.get(f"{url}/v1/projections")

    return send


async def _survey(client: httpx.AsyncClient, url: str) -> str:
    async def created() -> str | None:  # once surveys has read the new tenant
        answer = await client.post(f"{url}/v1/surveys", json=SURVEY)
        return str(answer.json()["survey_id"]) if answer.status_code == 201 else None

    return await eventually(created, timeout=10, what="a survey created")


async def _acknowledged(load: WriteLoad, count: int) -> None:
    async def enough() -> bool:
        assert not load.answers.unexpected, load.answers.unexpected[:3]
        return len(load.answers.acknowledged) >= count

    await eventually(enough, timeout=60, what=f"{count} writes acknowledged")


async def _consumed(client: httpx.AsyncClient, url: str, group: str) -> None:
    async def busy() -> bool:
        return await consumed(client, url, group) >= BEFORE_SIGNAL

    await eventually(busy, timeout=60, what=f"{group} consuming")


async def _projected(client: httpx.AsyncClient, url: str, name: str, count: int) -> None:
    async def busy() -> bool:
        status = (await client.get(f"{url}/v1/projections")).json()["projections"]
        return any(p["name"] == name and p["position"] >= count for p in status)

    await eventually(busy, timeout=60, what=f"projection {name} at {count}")


async def _refused_then_stopped(load: WriteLoad) -> Answers:
    """Writes after the signal are refused (as many as there are writers); then they stop."""

    async def refused() -> bool:
        return load.answers.refused_after_signal >= load.writers

    await eventually(refused, timeout=10, what="writes refused after the signal")
    return await load.stop()


# -- checking -----------------------------------------------------------------------------------


def _stopped_cleanly(name: str, code: int, seconds: float, answers: Answers) -> None:
    print(
        f"{name}: exit code {code} {seconds:.2f} s after SIGTERM; acknowledged"
        f" {len(answers.acknowledged)} ({answers.acknowledged_after_signal} after the signal),"
        f" refused {dict(answers.refused)}"
    )
    assert code == 0, f"{name} exited with {code}"
    assert seconds < GRACE_PERIOD_S, f"{name} took {seconds:.1f} s"
    assert not answers.unexpected, answers.unexpected[:5]
    assert answers.refused_after_signal > 0


def _every_acknowledged_logged(answers: Answers, events: Sequence[Envelope], key: str) -> None:
    """Each acknowledged write's event is in the log, at the position its answer named."""
    at = {str(e.position): e for e in events}
    lost = [
        answer
        for answer in answers.acknowledged
        if getattr(getattr(at.get(answer["position"]), "data", None), key, None) != answer[key]
    ]
    assert answers.acknowledged
    assert not lost, f"{len(lost)} acknowledged writes not in the log, e.g. {lost[:3]}"


async def _committed_cover(bootstrap: str, group: str, handled: Sequence[Envelope]) -> None:
    """The group's committed offsets lie beyond every record whose effect is visible."""
    committed = await committed_offsets(bootstrap, group)
    uncommitted = [
        str(e.position) for e in handled if _offset(e) >= committed.get(_partition(e), 0)
    ]
    print(f"{group}: {len(handled)} records handled, committed {committed}")
    assert handled
    assert not uncommitted, f"handled, not committed: {uncommitted[:5]} of {len(uncommitted)}"


def _positions_match_rows(
    database: Path, projection: str, table: str, events: Sequence[Envelope]
) -> None:
    """The calls in the projection's table are exactly those received before its positions."""
    with sqlite3.connect(database) as db:
        stored = db.execute(
            "SELECT topic, partition, next_offset FROM projection_positions WHERE projection = ?",
            (projection,),
        ).fetchall()
    positions = {(topic, partition): offset for topic, partition, offset in stored}
    expected = {
        e.data.call_id
        for e in events
        if isinstance(e.data, CallReceived) and _offset(e) < positions.get(_partition(e), 0)
    }
    rows = _column(database, f'SELECT call_id FROM "{table}"')
    print(f"{projection}: {len(rows)} rows, positions {positions}")
    assert expected
    assert rows == expected, f"{len(rows - expected)} rows beyond, {len(expected - rows)} missing"


def _column(database: Path, query: str) -> set[str]:
    with sqlite3.connect(database) as db:
        return {row[0] for row in db.execute(query)}


def _partition(event: Envelope) -> tuple[str, int]:
    assert event.position is not None
    return (event.position.topic, event.position.partition)


def _offset(event: Envelope) -> int:
    assert event.position is not None
    return event.position.offset
