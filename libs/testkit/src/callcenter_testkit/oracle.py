"""What the log says, computed by the test itself, and whether the services say the same.

`read_log` reads topics from the broker with a plain client (every raw record, decoded with the
codec; a record that does not decode is counted, not guessed at). `Oracle` derives from that
log, for one tenant:

- whether each acknowledged write (`load.Ack`) is in the log, at its position, as its event;
- whether any effect is in the log twice (two connects, two ends, two wrap-ups of one call, a
  response id answered twice), which no projection could then count once;
- each call's state as its events explain it (`queued`, `offered`, `connected`, `wrap_up`,
  `completed`, `abandoned`), compared with intake's reads (`GET /v1/calls` and, for a sample,
  `GET /v1/calls/{id}` with its timeline);
- the analytics figures computable exactly from the log (calls/2: offered, answered, abandoned,
  short abandoned, answered within the threshold, completed, ASA, AHT; agents/1: calls handled
  per agent; surveys/2: responses, NPS answers and NPS, in total and per agent), compared with
  analytics' query API.

The comparisons poll until the services agree or a deadline passes (projections are
asynchronous); the failure names every difference.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from callcenter_events import Envelope, Position, decode
from callcenter_events.codec import MalformedEventError
from callcenter_events.codec import Record as EventRecord
from callcenter_events.models import CallReceived
from callcenter_events.topics import AGENTS, CALLS, ROUTING, SURVEYS

from callcenter_testkit.load import Ack, Urls
from callcenter_testkit.polling import eventually

MICROSECOND = timedelta(microseconds=1)
SERVICE_LEVEL_S = 20
SHORT_ABANDON_S = 5
"""The tenant defaults the scenarios keep (calls/2 reads them from the settings in force)."""
TIMELINE_TYPES = frozenset(
    {
        "call.received",
        "call.queued",
        "call.abandoned",
        "call.ended",
        "call.wrapped_up",
        "call.offered",
        "call.connected",
        "offer.rejected",
        "offer.missed",
        "offer.withdrawn",
        "call.escalated",
    }
)
OFFER_ENDS = ("call.connected", "offer.rejected", "offer.missed", "offer.withdrawn")


@dataclass
class Log:
    """Decoded events (first of each id), where each record is, and what did not decode."""

    events: list[Envelope] = field(default_factory=list)
    at: dict[str, Envelope] = field(default_factory=dict)
    records: int = 0
    undecodable: list[tuple[Position, str]] = field(default_factory=list)
    repeated_ids: int = 0


async def read_log(bootstrap: str, topics: Sequence[str]) -> Log:
    """Every record of `topics` up to their ends now, decoded, per partition in log order."""
    log = Log()
    seen: set[str] = set()
    for tp, message in await raw_messages(bootstrap, topics):
        _add(log, seen, Position(tp.topic, tp.partition, message.offset), message)
    return log


async def raw_messages(bootstrap: str, topics: Sequence[str]) -> list[tuple[TopicPartition, Any]]:
    """Every record of `topics` up to their ends now, as the client reads it."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    found: list[tuple[TopicPartition, Any]] = []
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(
                consumer.partitions_for_topic(topic) or await _partitions(consumer, topic)
            )
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        left = {tp for tp, end in ends.items() if end > 0}
        while left:
            polled = await consumer.getmany(*left, timeout_ms=1000)
            for tp, messages in polled.items():
                for message in messages:
                    if message.offset < ends[tp]:
                        found.append((tp, message))
                    if message.offset + 1 >= ends[tp]:
                        left.discard(tp)
    finally:
        await consumer.stop()
    return found


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # a topic not yet in metadata
    return consumer.partitions_for_topic(topic) or set()


def _add(log: Log, seen: set[str], position: Position, message: Any) -> None:
    log.records += 1
    record = EventRecord(message.key, message.value, tuple(message.headers or ()))
    try:
        event = decode(record).at(position)
    except MalformedEventError as exc:
        log.undecodable.append((position, str(exc)))
        return
    log.at[str(position)] = event
    if event.id in seen:
        log.repeated_ids += 1
        return
    seen.add(event.id)
    log.events.append(event)


@dataclass
class CallTruth:
    """One call as its events tell it (the first fact of each kind, as calls/2 keeps it)."""

    call_id: str
    received_at: datetime | None = None
    inbound: bool = True
    types: list[str] = field(default_factory=list)
    connected_at: datetime | None = None
    agent_id: str | None = None
    abandoned_at: datetime | None = None
    ended_at: datetime | None = None
    wrapped_up_at: datetime | None = None
    last_offer_fact: str | None = None
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def state(self) -> str:
        """What intake's projection must show: intake's events win, then routing's."""
        if self.wrapped_up_at is not None:
            return "completed"
        if self.ended_at is not None:
            return "wrap_up"
        if self.abandoned_at is not None:
            return "abandoned"
        if self.connected_at is not None:
            return "connected"
        return "offered" if self.last_offer_fact == "call.offered" else "queued"


def _first(current: datetime | None, value: datetime) -> datetime:
    return current if current is not None else value


def truths_of(events: Iterable[Envelope], tenant: str) -> dict[str, CallTruth]:
    """The tenant's calls from the calls and routing topics (events in log order)."""
    calls: dict[str, CallTruth] = {}
    for event in events:
        data: Any = event.data
        if event.type not in TIMELINE_TYPES or getattr(data, "tenant_id", None) != tenant:
            continue
        call = calls.setdefault(data.call_id, CallTruth(data.call_id))
        call.types.append(event.type)
        call.counts[event.type] += 1
        if isinstance(data, CallReceived):
            call.received_at = _first(call.received_at, data.received_at)
            call.inbound = data.direction.value == "inbound"
        elif event.type == "call.connected":
            if call.connected_at is None:
                call.connected_at, call.agent_id = data.closed_at, data.agent_id
        elif event.type == "call.abandoned":
            call.abandoned_at = _first(call.abandoned_at, data.abandoned_at)
        elif event.type == "call.ended":
            call.ended_at = _first(call.ended_at, data.ended_at)
        elif event.type == "call.wrapped_up":
            call.wrapped_up_at = _first(call.wrapped_up_at, data.wrapped_up_at)
        if event.type == "call.offered" or event.type in OFFER_ENDS:
            call.last_offer_fact = event.type
    return calls


def effects_twice(calls: dict[str, CallTruth], responses: Sequence[Envelope]) -> list[str]:
    """Effects the log holds more than once (under different event ids)."""
    found = []
    for call in calls.values():
        twice = {t: n for t, n in call.counts.items() if n > 1 and t not in _REPEATABLE}
        ends = call.counts["call.abandoned"] + call.counts["call.ended"]
        if twice or ends > 1:
            found.append(f"{call.call_id}: {dict(call.counts)}")
        if call.received_at is None:
            found.append(f"{call.call_id}: facts of a call never received: {call.types}")
    ids = Counter(e.data.response_id for e in responses)  # type: ignore[attr-defined]
    found += [f"response {r} answered {n} times" for r, n in ids.items() if n > 1]
    return found


_REPEATABLE = frozenset({"call.offered", "offer.rejected", "offer.missed", "offer.withdrawn"})


def rounded(numerator: int, denominator: int, places: int) -> float | None:
    """numerator / denominator, half away from zero (as the KPI formulas define it)."""
    if denominator == 0:
        return None
    unit = 10**places
    negative = (numerator < 0) != (denominator < 0)
    scaled, rest = divmod(abs(numerator) * unit, abs(denominator))
    scaled += 2 * rest >= abs(denominator)
    result: float = (-scaled if negative else scaled) / unit
    return result


def call_figures(calls: Iterable[CallTruth]) -> dict[str, Any]:
    """calls/2 over the tenant's inbound calls (one period: the scenarios last minutes)."""
    n: Counter[str] = Counter()
    for call in calls:
        if call.received_at is None:
            continue
        if not call.inbound:
            n["outbound_calls"] += 1
            continue
        n["offered"] += 1
        if call.connected_at is not None:
            wait = (call.connected_at - call.received_at) // MICROSECOND
            n["answered"] += 1
            n["wait_us"] += wait
            n["answered_within_threshold"] += wait <= SERVICE_LEVEL_S * 1_000_000
            if call.ended_at is not None and call.wrapped_up_at is not None:
                n["completed"] += 1
                n["handle_us"] += (call.wrapped_up_at - call.connected_at) // MICROSECOND
        elif call.abandoned_at is not None:
            n["abandoned"] += 1
            waited = (call.abandoned_at - call.received_at) // MICROSECOND
            n["short_abandoned"] += waited < SHORT_ABANDON_S * 1_000_000
    return {
        "offered": n["offered"],
        "answered": n["answered"],
        "abandoned": n["abandoned"],
        "short_abandoned": n["short_abandoned"],
        "answered_within_threshold": n["answered_within_threshold"],
        "completed": n["completed"],
        "outbound_calls": n["outbound_calls"],
        "asa_s": rounded(n["wait_us"], n["answered"] * 1_000_000, 3),
        "aht_s": rounded(n["handle_us"], n["completed"] * 1_000_000, 3),
    }


def survey_figures(responses: Sequence[Envelope], calls: dict[str, CallTruth]) -> dict[str, Any]:
    """surveys/2 of the NPS question: in total and per agent of the answered call."""
    scores = [(e.data.call_id, e.data.answers.get("nps")) for e in responses]  # type: ignore[attr-defined]
    by_agent: Counter[str] = Counter()
    for call_id, _score in scores:
        call = calls.get(call_id)
        by_agent[str(call.agent_id if call else None)] += 1
    nps = [int(s) for _c, s in scores if s is not None]
    promoters = sum(s >= 9 for s in nps)
    detractors = sum(s <= 6 for s in nps)
    return {
        "responses": len(scores),
        "nps_answers": len(nps),
        "nps": rounded(100 * (promoters - detractors), len(nps), 2),
        "by_agent": dict(sorted(by_agent.items())),
    }


@dataclass
class Checked:
    """What one check covered: records read and compared."""

    records: int = 0
    acks: int = 0
    calls: int = 0
    responses: int = 0
    timelines: int = 0
    undecodable: int = 0
    repeated_ids: int = 0
    states: dict[str, int] = field(default_factory=dict)


class Oracle:
    """The checks of one tenant's load against the log and the services."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        bootstrap: str,
        prefix: str,
        urls: Urls,
        analytics: str,
        tenant: str,
        survey_id: str,
    ) -> None:
        self.client = client
        self.bootstrap = bootstrap
        self.topics = [t.name(prefix) for t in (CALLS, ROUTING, AGENTS, SURVEYS)]
        self.urls = urls
        self.analytics = analytics
        self.tenant = tenant
        self.survey_id = survey_id

    async def check(
        self, acks: Sequence[Ack], agents: Sequence[str], *, timeout: float = 90.0
    ) -> Checked:
        log = await read_log(self.bootstrap, self.topics)
        checked = Checked(
            records=log.records,
            acks=len(acks),
            undecodable=len(log.undecodable),
            repeated_ids=log.repeated_ids,
        )
        lost = missing(log, acks)
        assert acks, "the load acknowledged nothing"
        assert not lost, (
            f"{len(lost)} of {len(acks)} acknowledged writes not in the log: {lost[:5]}"
        )
        calls = truths_of(log.events, self.tenant)
        responses = [
            e
            for e in log.events
            if e.type == "survey.answered" and getattr(e.data, "survey_id", None) == self.survey_id
        ]
        twice = effects_twice(calls, responses)
        assert not twice, f"effects in the log twice: {twice[:5]} ({len(twice)})"
        checked.calls, checked.responses = len(calls), len(responses)
        checked.states = dict(Counter(c.state for c in calls.values()))
        await self._intake_agrees(calls, timeout)
        checked.timelines = await self._timelines_agree(calls, timeout)
        await self._analytics_agrees(calls, responses, agents, timeout)
        return checked

    # -- intake -------------------------------------------------------------------------------

    async def _intake_agrees(self, calls: dict[str, CallTruth], timeout: float) -> None:
        expected = {c.call_id: c.state for c in calls.values()}

        async def states() -> dict[str, str]:
            shown: dict[str, str] = {}
            cursor: str | None = None
            while True:
                params: dict[str, Any] = {"tenant_id": self.tenant, "limit": 200}
                if cursor:
                    params["cursor"] = cursor
                page = await self.client.get(f"{self.urls.intake}/v1/calls", params=params)
                assert page.status_code == 200, page.text
                body = page.json()
                shown |= {c["call_id"]: c["state"] for c in body["calls"]}
                cursor = body["next_cursor"]
                if cursor is None:
                    return shown

        await agree("intake's call states", states, expected, timeout)

    async def _timelines_agree(self, calls: dict[str, CallTruth], timeout: float) -> int:
        sample = random.Random(len(calls)).sample(sorted(calls), min(40, len(calls)))
        for call_id in sample:
            call = calls[call_id]
            expected = {"state": call.state, "timeline": sorted(call.types)}

            async def view(call_id: str = call_id) -> dict[str, Any]:
                answer = await self.client.get(f"{self.urls.intake}/v1/calls/{call_id}")
                assert answer.status_code == 200, answer.text
                body = answer.json()
                return {
                    "state": body["state"],
                    "timeline": sorted(item["type"] for item in body["timeline"]),
                }

            await agree(f"GET /v1/calls/{call_id}", view, expected, timeout)
        return len(sample)

    # -- analytics ----------------------------------------------------------------------------

    async def _analytics_agrees(
        self,
        calls: dict[str, CallTruth],
        responses: Sequence[Envelope],
        agents: Sequence[str],
        timeout: float,
    ) -> None:
        now = datetime.now(UTC)
        window: dict[str, str | int] = {
            "from": (now - timedelta(days=2)).isoformat(),
            "to": (now + timedelta(days=1)).isoformat(),
        }
        expected_calls = call_figures(calls.values())

        async def call_report() -> dict[str, Any]:
            params = window | {"interval": "month", "tenant_id": self.tenant, "limit": 10_000}
            answer = await self.client.get(f"{self.analytics}/v1/analytics/calls", params=params)
            assert answer.status_code == 200, answer.text
            rows = answer.json()["rows"]
            summed = {k: sum(r[k] for r in rows) for k in expected_calls if k[-2:] != "_s"}
            if len(rows) == 1:
                summed |= {k: rows[0][k] for k in ("asa_s", "aht_s")}
            else:  # a month boundary: the rounded means are per row
                summed |= {k: expected_calls[k] for k in ("asa_s", "aht_s")}
            return summed

        await agree("analytics' call KPIs", call_report, expected_calls, timeout)

        handled: Counter[str] = Counter(
            c.agent_id for c in calls.values() if c.agent_id is not None and c.received_at
        )
        expected_agents = {agent: handled[agent] for agent in agents}

        async def agent_report() -> dict[str, int]:
            params = window | {"interval": "month", "limit": 10_000}
            answer = await self.client.get(f"{self.analytics}/v1/analytics/agents", params=params)
            assert answer.status_code == 200, answer.text
            by_agent: Counter[str] = Counter()
            for row in answer.json()["rows"]:
                by_agent[row["agent_id"]] += row["calls_handled"]
            return {agent: by_agent[agent] for agent in agents}

        await agree("analytics' calls handled per agent", agent_report, expected_agents, timeout)

        expected_survey = survey_figures(responses, calls)

        async def survey_report() -> dict[str, Any]:
            url = f"{self.analytics}/v1/analytics/surveys/{self.survey_id}"
            total = await self.client.get(url, params={"tenant_id": self.tenant})
            per_agent = await self.client.get(
                url, params={"tenant_id": self.tenant, "group_by": "agent"}
            )
            assert total.status_code == per_agent.status_code == 200, total.text
            rows = total.json()["rows"]
            row = rows[0] if rows else {"responses": 0, "nps_answers": 0, "nps": None}
            return {
                "responses": row["responses"],
                "nps_answers": row["nps_answers"],
                "nps": row["nps"],
                "by_agent": dict(
                    sorted((str(r["agent"]), r["responses"]) for r in per_agent.json()["rows"])
                ),
            }

        await agree("analytics' survey results", survey_report, expected_survey, timeout)


def missing(log: Log, acks: Iterable[Ack]) -> list[Ack]:
    """The acknowledged writes whose event is not in the log where their answer said."""
    lost = []
    for ack in acks:
        event = log.at.get(ack.position)
        data: Any = event.data if event is not None else None
        key = getattr(data, "response_id", None) or getattr(data, "call_id", None)
        if ack.type == "agent.status_changed":
            key = getattr(data, "agent_id", None)
        if event is None or event.type != ack.type or key != ack.key:
            lost.append(ack)
    return lost


async def agree(
    what: str, shown: Callable[[], Awaitable[Any]], expected: Any, timeout: float
) -> None:
    """Poll `shown()` until it equals `expected`; the failure names the differences."""
    last: list[Any] = [None]

    async def same() -> bool:
        last[0] = await shown()
        return bool(last[0] == expected)

    try:
        await eventually(same, timeout=timeout, interval=0.5, what=what)
    except AssertionError:
        raise AssertionError(f"{what} differ from the log: {_diff(expected, last[0])}") from None


def _diff(expected: Any, shown: Any) -> str:
    if isinstance(expected, dict) and isinstance(shown, dict):
        keys = sorted(set(expected) | set(shown), key=str)
        differing = [
            (k, expected.get(k), shown.get(k)) for k in keys if expected.get(k) != shown.get(k)
        ]
        listed = ", ".join(f"{k}: log {e!r}, shown {s!r}" for k, e, s in differing[:10])
        return f"{len(differing)} differ: {listed}"
    return f"log {expected!r}, shown {shown!r}"


def elapsed(since: float) -> float:
    return round(time.monotonic() - since, 1)
