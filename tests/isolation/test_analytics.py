"""Analytics never mixes tenants, checked against the log.

Both tenants made calls (answered by an agent, abandoned, still waiting) and answered surveys,
A more than B, under different thresholds. Every analytics query that reports a tenant's data
(call KPIs, survey NPS/CSAT, the queues now; as JSON and as CSV) asked with a tenant's key
equals what this test computes from that tenant's events alone, read from the topics; the
operator naming a tenant sees exactly that tenant's answer, and without one, everyone's.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from analytics.calls_kpis import COUNTS, CallFacts, Thresholds, counts_of, figures
from analytics.periods import Interval, period_start
from analytics.survey_queries import nps_of
from callcenter_events import Envelope
from callcenter_events.topics import AGENTS, CALLS, ROUTING, SURVEYS, TENANTS
from callcenter_testkit import eventually
from callcenter_testkit.isolation import TenantWorld, World, quiet
from callcenter_testkit.tally import count
from callcenter_testkit.traces import log_events

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(300)]

CSV = {"Accept": "text/csv"}
EVENT_TOPICS = (TENANTS, CALLS, ROUTING, AGENTS, SURVEYS)
CALL_TIMES = {
    "call.connected": ("connected_at", "closed_at"),
    "call.abandoned": ("abandoned_at", "abandoned_at"),
    "call.ended": ("ended_at", "ended_at"),
    "call.wrapped_up": ("wrapped_up_at", "wrapped_up_at"),
}
TENANT_SKILL = "tenant:"


class Log:
    """The platform's events, and the figures each report should show, from them alone."""

    def __init__(self, events: list[Envelope], now: datetime) -> None:
        self.events = events
        self.now = now
        self.calls: dict[str, dict[str, Any]] = {}
        for event in events:
            data: Any = event.data
            if event.type == "call.received":
                self.calls.setdefault(data.call_id, {}).update(
                    tenant_id=data.tenant_id,
                    direction=data.direction.value,
                    topic=data.topic,
                    language=data.language,
                    received_at=data.received_at,
                )
            elif event.type in CALL_TIMES:
                column, attribute = CALL_TIMES[event.type]
                self.calls.setdefault(data.call_id, {}).setdefault(column, getattr(data, attribute))

    def of(self, tenant: str | None) -> list[dict[str, Any]]:
        return [c for c in self.calls.values() if tenant is None or c["tenant_id"] == tenant]

    def thresholds(self, tenant: str, moment: datetime) -> Thresholds:
        """The tenant's thresholds in force at `moment` (its settings history in the log)."""
        changes = []
        for event in self.events:
            data: Any = event.data
            if event.type == "tenant.created" and data.tenant_id == tenant:
                changes.append((data.created_at, data.settings))
            elif event.type == "tenant.settings_changed" and data.tenant_id == tenant:
                changes.append((data.changed_at, data.settings))
        changes.sort(key=lambda change: change[0])
        index = bisect_right([at for at, _ in changes], moment)
        assert index, "every call comes after its tenant's creation"
        settings = changes[index - 1][1]
        return Thresholds(settings.service_level_threshold_s, settings.short_abandon_s)

    def calls_report(self, tenant: str | None) -> list[dict[str, Any]]:
        """`GET /v1/analytics/calls?interval=day&group_by=topic` over all the calls."""
        totals: dict[tuple[str, str, str], list[int]] = {}
        for call in self.of(tenant):
            facts = CallFacts(
                direction=call["direction"],
                received_at=call["received_at"],
                connected_at=call.get("connected_at"),
                abandoned_at=call.get("abandoned_at"),
                ended_at=call.get("ended_at"),
                wrapped_up_at=call.get("wrapped_up_at"),
            )
            thresholds = self.thresholds(call["tenant_id"], facts.received_at)
            counts = counts_of(facts, thresholds, self.now)
            start = period_start(facts.received_at, Interval.DAY).isoformat()
            key = (start, call["tenant_id"], call["topic"])
            sums = totals.setdefault(key, [0] * len(COUNTS))
            totals[key] = [a + b for a, b in zip(sums, counts, strict=True)]
        return [
            {"period_start": start, "tenant_id": owner, "topic": topic, **figures(sums)}
            for (start, owner, topic), sums in sorted(totals.items())
        ]

    def survey_report(self, survey_id: str, by_question: bool) -> list[dict[str, Any]]:
        """`GET /v1/analytics/surveys/{survey_id}`, by question or as one row."""
        types: dict[str, str] = {}
        answers: list[tuple[str, str, str, float]] = []
        for event in self.events:
            data: Any = event.data
            if event.type == "survey.defined" and data.survey_id == survey_id:
                types |= {question.id: question.type.value for question in data.questions}
        for event in self.events:
            data = event.data
            if event.type == "survey.answered" and data.survey_id == survey_id:
                answers += [(data.response_id, q, types[q], s) for q, s in data.answers.items()]
        groups: defaultdict[tuple[str, ...], list[tuple[str, str, str, float]]] = defaultdict(list)
        for answer in answers:
            groups[(answer[1],) if by_question else ()].append(answer)
        names = ("question",) if by_question else ()
        return [
            dict(zip(names, key, strict=True)) | _survey_figures(members)
            for key, members in sorted(groups.items())
        ]

    def realtime(self, tenant: str | None) -> dict[str, Any]:
        """`GET /v1/analytics/realtime`: the waiting calls per queue, the available agents."""
        skills: dict[str, set[str]] = {}
        status: dict[str, str] = {}
        for event in self.events:
            data: Any = event.data
            if event.type == "agent.updated":
                skills[data.agent_id] = set(data.skills)
            elif event.type == "agent.status_changed":
                status[data.agent_id] = data.status.value
        available = {agent: held for agent, held in skills.items() if status[agent] == "available"}
        if tenant is not None:
            own = f"{TENANT_SKILL}{tenant}"
            available = {
                agent: {s for s in held if s == own or not s.startswith(TENANT_SKILL)}
                for agent, held in available.items()
                if own in held
            }
        waiting = Counter(
            (c["tenant_id"], c["direction"], c["topic"], c["language"])
            for c in self.of(tenant)
            if not {"connected_at", "abandoned_at", "ended_at"} & set(c)
        )
        queues = []
        for (owner, direction, topic, language), n in sorted(waiting.items()):
            need = {f"{TENANT_SKILL}{owner}", f"lang:{language}", f"topic:{topic}"}
            queues.append(
                {
                    "tenant_id": owner,
                    "direction": direction,
                    "topic": topic,
                    "language": language,
                    "waiting": n,
                    "agents_available": sum(1 for held in available.values() if need <= held),
                }
            )
        held = Counter(s for skills_of in available.values() for s in skills_of)
        return {
            "queues": queues,
            "skills": [{"skill": s, "agents_available": n} for s, n in sorted(held.items())],
        }


def _survey_figures(answers: list[tuple[str, str, str, float]]) -> dict[str, Any]:
    nps = [score for _, _, kind, score in answers if kind == "nps"]
    csat = [score for _, _, kind, score in answers if kind == "csat"]
    return {
        "responses": len({response for response, *_ in answers}),
        "nps_answers": len(nps),
        "nps": nps_of(nps),
        "csat_answers": len(csat),
        "csat": round(sum(s >= 4 for s in csat) / len(csat), 4) if csat else None,
        "csat_mean": round(sum(csat) / len(csat), 4) if csat else None,
    }


def _as_csv(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Rows as the CSV answer writes them: every value as text, null as empty."""
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


def _read_csv(answer: httpx.Response) -> list[dict[str, str]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv"), answer.headers
    return list(csv.DictReader(io.StringIO(answer.text)))


class Analyst:
    """Asks analytics with one token."""

    def __init__(self, client: httpx.AsyncClient, world: World, token: str) -> None:
        self.client = client
        self.base = world.platform.url("analytics")
        self.auth = {"Authorization": f"Bearer {token}"}
        self.asked = 0

    async def get(
        self, path: str, params: dict[str, str], csv_wanted: bool = False
    ) -> httpx.Response:
        self.asked += 1
        headers = self.auth | (CSV if csv_wanted else {})
        return await self.client.get(f"{self.base}{path}", params=params, headers=headers)

    async def json(self, path: str, params: dict[str, str]) -> Any:
        answer = await self.get(path, params)
        assert answer.status_code == 200, (path, params, answer.text)
        return answer.json()


async def _reports(
    analyst: Analyst, tenant: TenantWorld | None, named: str | None, period: dict[str, str]
) -> dict[str, Any]:
    """Every tenant report analytics gives this caller (JSON and CSV), the clock's fields out."""
    scope = {"tenant_id": named} if named else {}
    calls = {**period, "interval": "day", "group_by": "topic", **scope}
    found: dict[str, Any] = {
        "calls": (await analyst.json("/v1/analytics/calls", calls))["rows"],
        "calls.csv": _read_csv(await analyst.get("/v1/analytics/calls", calls, csv_wanted=True)),
    }
    realtime = await analyst.json("/v1/analytics/realtime", scope)
    found["realtime"] = {
        "queues": [_no_wait(q) for q in realtime["queues"]],
        "skills": realtime["skills"],
    }
    queues = _read_csv(await analyst.get("/v1/analytics/realtime", scope, csv_wanted=True))
    found["realtime.csv"] = [_no_wait(q) for q in queues]
    if tenant is not None:
        path = f"/v1/analytics/surveys/{tenant.survey_id}"
        by_question = scope | {"group_by": "question"}
        found["survey"] = (await analyst.json(path, by_question))["rows"]
        found["survey.csv"] = _read_csv(await analyst.get(path, scope, csv_wanted=True))
    return found


def _no_wait(queue: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in queue.items() if k != "longest_wait_s"}


def _expected(log: Log, tenant: TenantWorld | None) -> dict[str, Any]:
    owner = tenant.tenant_id if tenant else None
    calls = log.calls_report(owner)
    realtime = log.realtime(owner)
    expected: dict[str, Any] = {
        "calls": calls,
        "calls.csv": _as_csv(calls),
        "realtime": realtime,
        "realtime.csv": _as_csv(realtime["queues"]),
    }
    if tenant is not None:
        expected["survey"] = log.survey_report(tenant.survey_id, by_question=True)
        expected["survey.csv"] = _as_csv(log.survey_report(tenant.survey_id, by_question=False))
    return expected


async def test_each_tenant_sees_exactly_the_figures_of_its_own_events(world: World) -> None:
    await quiet(world.platform, world.bootstrap)
    topics = [topic.name(world.platform.topic_prefix) for topic in EVENT_TOPICS]
    log = Log(await log_events(world.bootstrap, topics), datetime.now(UTC))
    a, b = world.a, world.b
    assert len(log.of(a.tenant_id)) > len(log.of(b.tenant_id)) > 0, "both have calls, A more"
    start = min(call["received_at"] for call in log.calls.values()) - timedelta(days=1)
    period = {"from": start.isoformat(), "to": (log.now + timedelta(hours=1)).isoformat()}

    async with httpx.AsyncClient(timeout=30) as client:
        operator = Analyst(client, world, world.platform.auth["Authorization"][7:])
        askers = [
            (Analyst(client, world, a.key), a, None),
            (Analyst(client, world, b.key), b, None),
            (operator, a, a.tenant_id),
            (operator, b, b.tenant_id),
            (operator, None, None),
        ]
        wanted = [_expected(log, tenant) for _, tenant, _ in askers]

        async def projected() -> bool:
            """Analytics has read the log (the answers are compared in full below)."""
            everyone = await _reports(operator, None, None, period)
            return bool(everyone == wanted[-1])

        await eventually(projected, timeout=20, what="analytics caught up with the log")
        for (analyst, tenant, named), expected in zip(askers, wanted, strict=True):
            found = await _reports(analyst, tenant, named, period)
            who = (tenant.tenant_id if tenant else "everyone", "operator" if named else "key")
            for report, rows in expected.items():
                assert found[report] == rows, (who, report)
        tenants_of = {row["tenant_id"] for row in wanted[0]["calls"]}
        assert tenants_of == {a.tenant_id}, "A's report has A's rows only"
        everyone = {row["tenant_id"] for row in wanted[-1]["calls"]}
        assert everyone == {a.tenant_id, b.tenant_id}
        b_survey = f"/v1/analytics/surveys/{b.survey_id}"
        foreign = await operator.get(b_survey, {"tenant_id": a.tenant_id})
        assert foreign.status_code == 404, "the operator naming A does not find B's survey"
    count("isolation", "analytics answers compared with the log", len(askers) * 6)
    count("isolation", "events read for analytics", len(log.events))
