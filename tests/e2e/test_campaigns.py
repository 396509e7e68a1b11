"""A survey campaign over an imported list, and a post-call survey, through broker and HTTP.

The client company imports its customers, defines a campaign survey and starts a campaign;
the dialer calls only those who may be called now; the one campaign agent receives the calls
through routing, one at a time (progressive pacing); the agent records the answers during
each call; the campaign's progress adds up. A second tenant sees none of it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from callcenter_events.models import CallConnected, OutboundCallRequested
from callcenter_events.topics import ROUTING, SURVEYS
from callcenter_testkit import eventually
from callcenter_testkit.platform import Platform, create_api_key, create_tenant
from callcenter_testkit.traces import log_events

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]

SCOPES = ["surveys:read", "surveys:write", "calls:write", "calls:read"]
CAMPAIGN_SURVEY = {
    "name": "What do you think of us?",
    "kind": "campaign",
    "questions": [
        {"id": "nps", "type": "nps", "text": "Would you recommend us?", "required": True},
        {"id": "price", "type": "rating", "text": "The price?", "scale": {"min": 1, "max": 5}},
        {"id": "packaging", "type": "choice", "text": "Packaging?", "options": ["ok", "bad"]},
    ],
}
POST_CALL_SURVEY = {
    "name": "After your call",
    "kind": "post_call",
    "questions": [{"id": "csat", "type": "csat", "text": "Were you helped?", "required": True}],
}


@pytest.fixture(params=["sqlite"])
def database_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/analytics.sqlite3"


@pytest.fixture
def platform_env() -> dict[str, str]:
    return {"SURVEYS_DIAL_INTERVAL_S": "0.2"}


def _zone_at(hour: int) -> str:
    """A fixed-offset zone where the local time is now about `hour` o'clock."""
    offset = (hour - datetime.now(UTC).hour + 12) % 24 - 12  # -12 .. 11 hours from UTC
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT-2 is UTC+2


def _customer(ref: str, zone: str, consent: bool | None, **segment: object) -> dict[str, Any]:
    row: dict[str, Any] = {
        "customer_ref": ref,
        "phone": f"+49301{abs(hash(ref)) % 10**7:07d}",
        "language": "de-DE",
        "timezone": zone,
        "segment": {"region": "north", **segment},
    }
    if consent is not None:
        row["consent"] = {
            "marketing_calls": consent,
            "source": "web-form",
            "at": "2026-01-05T10:00:00Z",
        }
    return row


DAY, NIGHT = _zone_at(12), _zone_at(0)
LIST = [
    _customer("k-anna", DAY, True),
    _customer("k-ben", DAY, True),
    _customer("k-carla", DAY, True),  # does not answer
    _customer("k-dora", DAY, None),  # never consented
    _customer("k-emil", DAY, False),  # withdrew
    _customer("k-fritz", NIGHT, True),  # asleep: outside the window
    _customer("k-gerd", DAY, True, group="earlier"),  # called by the earlier campaign
    _customer("k-hanna", DAY, True, region="south"),  # not in the audience
]
EXPECTED_CALLS = {"k-anna", "k-ben", "k-carla"}


class Center:
    """The client's CRM, the agents' desk and the telephony, as HTTP clients."""

    def __init__(self, client: httpx.AsyncClient, platform: Platform, key: str) -> None:
        self.client = client
        self.platform = platform
        self.tenant = {"Authorization": f"Bearer {key}"}
        self.survey_id = ""

    def url(self, service: str, path: str) -> str:
        return f"{self.platform.url(service)}{path}"

    async def post(self, service: str, path: str, body: Any, status: int = 201) -> Any:
        answer = await self.client.post(self.url(service, path), json=body, headers=self.tenant)
        assert answer.status_code == status, answer.text
        return answer.json()

    async def campaign(self, campaign_id: str, position: str | None = None) -> dict[str, Any]:
        params = {"min_position": position} if position else {}
        url = self.url("surveys", f"/v1/campaigns/{campaign_id}")
        answer = await self.client.get(url, params=params, headers=self.tenant)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def agent(self, agent_id: str, skills: dict[str, int]) -> None:
        url = self.url("routing", f"/v1/agents/{agent_id}")
        body = {"name": agent_id, "skills": skills}
        assert (await self.client.put(url, json=body)).status_code == 201
        status = await self.client.put(f"{url}/status", json={"status": "available"})
        assert status.status_code == 200, status.text

    async def next_offer(self, agent_id: str) -> dict[str, Any]:
        url = self.url("routing", f"/v1/agents/{agent_id}")

        async def offered() -> dict[str, Any] | None:
            offers: list[dict[str, Any]] = (await self.client.get(url)).json()["offers"]
            return offers[0] if offers else None

        offer: dict[str, Any] = await eventually(offered, timeout=20, what=f"offer to {agent_id}")
        return offer

    async def take(self, agent_id: str) -> dict[str, Any]:
        """Accept the next offer; the call as intake shows it."""
        offer = await self.next_offer(agent_id)
        accept = self.url("routing", f"/v1/offers/{offer['offer_id']}/accept")
        assert (await self.client.post(accept)).status_code == 200
        url = self.url("intake", f"/v1/calls/{offer['call_id']}")

        async def connected() -> dict[str, Any] | None:
            answer = await self.client.get(url)
            assert answer.status_code == 200, answer.text
            call: dict[str, Any] = answer.json()
            return call if call["state"] == "connected" else None

        call: dict[str, Any] = await eventually(connected, timeout=10, what="connected")
        return call

    async def finish(self, call_id: str, outcome: str | None) -> None:
        path = f"/v1/calls/{call_id}"
        hangup = {"by": "agent"} | ({"outcome": outcome} if outcome else {})
        await self.post("intake", f"{path}/hangup", hangup, 202)
        await self.post("intake", f"{path}/wrap-up", {"disposition": "survey"}, 202)


async def _import(center: Center, rows: list[dict[str, Any]]) -> None:
    body = b"".join(orjson.dumps(row) + b"\n" for row in rows)
    answer = await center.client.post(
        center.url("surveys", "/v1/customers/import"),
        content=body,
        headers=center.tenant | {"Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == len(rows), answer.text


def _campaign(survey_id: str, audience: dict[str, Any]) -> dict[str, Any]:
    return {
        "survey_id": survey_id,
        "audience": audience,
        "window": {"start": "09:00", "end": "17:00"},
        "max_attempts": 2,
        "retry_after_s": 3600,
        "rest_days": 30,
    }


async def _run_calls(center: Center, campaign_id: str, outcomes: dict[str, str]) -> set[str]:
    """The agent takes each campaign call, records answers when reached; whom it called."""
    called: set[str] = set()
    for _ in outcomes:
        call = await center.take("camp-1")
        assert call["direction"] == "outbound"
        ref = call["customer_ref"]
        if outcomes[ref] == "reached":
            answers = {"nps": 9, "price": 4, "packaging": "ok"}
            body = {"call_id": call["call_id"], "answers": answers}
            await center.post("surveys", f"/v1/surveys/{center.survey_id}/responses", body)
        await center.finish(call["call_id"], outcomes[ref])
        called.add(ref)
    return called


async def test_a_campaign_calls_only_the_eligible_and_its_progress_adds_up(
    platform: Platform, kafka_bootstrap: str
) -> None:
    async with httpx.AsyncClient(headers=platform.auth, timeout=20) as client:
        await create_tenant(client, platform, "acme")
        await create_tenant(client, platform, "globex")
        key = (await create_api_key(client, platform, "acme", SCOPES))["api_key"]
        other = (await create_api_key(client, platform, "globex", SCOPES))["api_key"]
        center = Center(client, platform, key)
        await _import(center, LIST)
        survey = await center.post("surveys", "/v1/surveys", CAMPAIGN_SURVEY)
        center.survey_id = survey["survey_id"]
        await center.agent("camp-1", {"campaign": 1, "tenant:acme": 1, "lang:de": 5})

        earlier = await center.post(
            "surveys", "/v1/campaigns", _campaign(survey["survey_id"], {"group": "earlier"})
        )
        assert await _run_calls(center, earlier["campaign_id"], {"k-gerd": "reached"}) == {"k-gerd"}
        created = await center.post(
            "surveys", "/v1/campaigns", _campaign(survey["survey_id"], {"region": "north"})
        )
        outcomes = {"k-anna": "reached", "k-ben": "reached", "k-carla": "no_answer"}
        called = await _run_calls(center, created["campaign_id"], outcomes)
        assert called == EXPECTED_CALLS

        async def settled() -> dict[str, Any] | None:
            view = await center.campaign(created["campaign_id"])
            progress = {name: view[name] for name in ("calling", "completed", "reached")}
            assert progress == {"calling": 0, "completed": 2, "reached": 2}, progress
            return view

        view = await eventually(settled, timeout=15, what="the campaign's last call counted")
        assert view["targeted"] == 7, "everyone in the north, whatever their consent"
        assert view["excluded"] == {
            "no_consent": 1,
            "withdrawn": 1,
            "attempt_cap": 0,
            "rest_period": 1,
            "outside_window": 1,
        }
        assert (view["attempted"], view["reached"], view["completed"]) == (3, 2, 2)
        assert (view["waiting"], view["retrying"], view["state"]) == (0, 1, "running")
        parts = view["reached"] + view["calling"] + view["waiting"] + view["retrying"]
        assert view["targeted"] == parts + sum(view["excluded"].values())

        topics = [SURVEYS.name(platform.topic_prefix), ROUTING.name(platform.topic_prefix)]
        log = await log_events(kafka_bootstrap, topics)
        requested = [e.data for e in log if isinstance(e.data, OutboundCallRequested)]
        assert len(requested) == 4, "gerd once, then anna, ben and carla; nobody else"
        connected = {
            e.data.call_id: e.data.closed_at for e in log if isinstance(e.data, CallConnected)
        }
        for request in requested:  # the one agent: no request while another call waited
            waiting = [
                other.call_id
                for other in requested
                if other.requested_at < request.requested_at
                and connected[other.call_id] > request.requested_at
            ]
            assert waiting == [], f"{request.call_id} requested while {waiting} waited"

        await _isolation(center, client, other, created["campaign_id"], survey["survey_id"])


async def _isolation(
    center: Center, client: httpx.AsyncClient, other_key: str, campaign_id: str, survey_id: str
) -> None:
    globex = {"Authorization": f"Bearer {other_key}"}
    campaign_url = center.url("surveys", f"/v1/campaigns/{campaign_id}")
    assert (await client.get(campaign_url, headers=globex)).status_code == 404
    assert (await client.post(f"{campaign_url}/stop", headers=globex)).status_code == 404
    foreign = await client.post(
        center.url("surveys", "/v1/campaigns"), json=_campaign(survey_id, {}), headers=globex
    )
    assert foreign.status_code == 422, "another tenant's survey is unknown"
    stopped = await client.post(f"{campaign_url}/stop", headers=center.tenant)
    assert stopped.status_code == 200, stopped.text
    assert (await center.campaign(campaign_id, stopped.json()["position"]))["state"] == "stopped"


async def test_a_completed_inbound_call_invites_its_caller_to_the_post_call_survey(
    platform: Platform,
) -> None:
    async with httpx.AsyncClient(headers=platform.auth, timeout=20) as client:
        await create_tenant(client, platform, "acme")
        await create_tenant(client, platform, "globex")
        key = (await create_api_key(client, platform, "acme", SCOPES))["api_key"]
        center = Center(client, platform, key)
        other = (await create_api_key(client, platform, "globex", SCOPES))["api_key"]
        globex = {"Authorization": f"Bearer {other}"}
        survey = await center.post("surveys", "/v1/surveys", POST_CALL_SURVEY)
        settings = {"post_call_survey_id": survey["survey_id"]}
        changed = await client.put(center.url("intake", "/v1/tenants/acme/settings"), json=settings)
        assert changed.status_code == 200, changed.text
        await center.agent("help-1", {"tenant:acme": 1, "lang:de": 5, "topic:billing": 5})
        call = {"caller_phone": "+4930555123", "language": "de", "topic": "billing"}
        call_id = (await center.post("intake", "/v1/calls", call, 202))["call_id"]
        assert (await center.take("help-1"))["call_id"] == call_id
        await center.finish(call_id, None)

        url = center.url("surveys", "/v1/invitations")

        async def invited() -> dict[str, Any] | None:
            answer = await client.get(url, params={"call_id": call_id}, headers=center.tenant)
            found: list[dict[str, Any]] = answer.json()["invitations"]
            return found[0] if found else None

        invitation = await eventually(invited, timeout=15, what="the post-call invitation")
        assert (invitation["survey_id"], invitation["answered"]) == (survey["survey_id"], False)
        answers_url = f"/v1/surveys/{survey['survey_id']}/responses"
        body = {"invitation_id": invitation["invitation_id"], "answers": {"csat": 5}}
        answer = await client.post(
            center.url("surveys", answers_url),
            json={**body, "answers": {"csat": 6}},
            headers=center.tenant,
        )
        assert answer.status_code == 422, answer.text
        assert "csat" in answer.json()["detail"], "the problem names the question"
        foreign = await client.post(center.url("surveys", answers_url), json=body, headers=globex)
        assert foreign.status_code == 404, "another tenant's key does not find the survey"
        answered = await center.post("surveys", answers_url, body)
        assert answered["version"] == invitation["version"]
        answer = await client.post(
            center.url("surveys", answers_url), json=body, headers=center.tenant
        )
        assert answer.status_code == 409, "an invitation is answered once"
        seen = await client.get(url, params={"call_id": call_id}, headers=globex)
        assert seen.json()["invitations"] == [], "another tenant sees no invitation"
