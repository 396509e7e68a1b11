"""The isolation sweep's world (tests/isolation): two tenants with real data on one platform.

Tenant A (`acme`) and tenant B (`globex`) each create what their APIs allow: customers (one by
one with consent, and imported), surveys, a campaign (A), calls answered by an agent of the
call center, abandoned and still waiting, post-call invitations and survey responses. A has
more of everything than B, and the two have different KPI thresholds, so a report that mixed
them would show it. A also gets one key per scope that lacks exactly that scope.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from callcenter_testkit.platform import Platform
from callcenter_testkit.polling import eventually

# Nothing may happen in the background while the sweep compares the log's end offsets: agents
# never time out, and no offer is left open (every offer made is answered at once).
QUIET = {"ROUTING_HEARTBEAT_TIMEOUT_S": "3600"}
SCOPES = ("analytics:read", "calls:read", "calls:write", "surveys:read", "surveys:write")
POST_CALL_SURVEY = {
    "name": "After your call",
    "kind": "post_call",
    "questions": [
        {"id": "nps", "type": "nps", "text": "Recommend us?", "required": True},
        {"id": "csat", "type": "csat", "text": "Happy with the help?", "required": False},
    ],
}
CAMPAIGN_SURVEY = {
    "name": "Price and packaging",
    "kind": "campaign",
    "questions": [
        {"id": "price", "type": "rating", "text": "The price?", "scale": {"min": 1, "max": 5}}
    ],
}
CONSENT = {"marketing_calls": True, "source": "web-form", "at": "2026-02-01T10:00:00Z"}
# Nobody is in this audience: the campaign exists (a real id) but never dials.
CAMPAIGN_RULES = {
    "audience": {"region": "nowhere"},
    "window": {"start": "09:00", "end": "18:00"},
    "max_attempts": 1,
    "retry_after_s": 600,
    "rest_days": 0,
}


@dataclass(frozen=True)
class Plan:
    """What one tenant does, and the settings its KPIs are measured with."""

    tenant_id: str
    language: str
    settings: dict[str, Any]
    answered: list[tuple[int, int]]  # the (nps, csat) each caller gives after the call
    abandoned: int
    waiting: int
    customer_ref: str
    phone: str
    imported: list[str] = field(default_factory=list)
    campaign: bool = False


PLANS = (
    Plan(
        "acme",
        "de",
        {"service_level_threshold_s": 20, "short_abandon_s": 5, "api_rate_limit_per_s": 10_000},
        answered=[(10, 5), (3, 2), (9, 4)],
        abandoned=2,
        waiting=2,
        customer_ref="crm-4711",
        phone="+4930999111",
        imported=["crm-1", "crm-2"],
        campaign=True,
    ),
    Plan(
        "globex",
        "en",
        {"service_level_threshold_s": 1, "short_abandon_s": 0, "api_rate_limit_per_s": 10_000},
        answered=[(6, 3)],
        abandoned=1,
        waiting=1,
        customer_ref="gx-1",
        phone="+4420777000",
    ),
)


@dataclass
class TenantWorld:
    """A tenant's keys and the ids of what it created."""

    tenant_id: str
    key: str
    key_id: str
    language: str
    customer_ref: str
    survey_id: str = ""
    campaign_survey_id: str = ""
    campaign_id: str = ""
    completed_calls: list[str] = field(default_factory=list)
    abandoned_calls: list[str] = field(default_factory=list)
    waiting_calls: list[str] = field(default_factory=list)
    invitations: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    offers: list[str] = field(default_factory=list)
    agent_id: str = ""
    without: dict[str, str] = field(default_factory=dict)  # scope -> a key lacking only it

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass
class World:
    platform: Platform
    bootstrap: str
    a: TenantWorld
    b: TenantWorld


async def build_world(platform: Platform, bootstrap: str) -> World:
    """Both tenants' data, created concurrently; answers once the log is at rest."""
    async with httpx.AsyncClient(timeout=30, headers=platform.auth) as client:
        a, b = await asyncio.gather(*(_tenant(client, platform, plan) for plan in PLANS))
        await quiet(platform, bootstrap)
    return World(platform, bootstrap, a, b)


class Center:
    """The HTTP calls one tenant (its key) and the operator (agents, settings) make."""

    def __init__(self, client: httpx.AsyncClient, platform: Platform, key: str) -> None:
        self.client = client
        self.platform = platform
        self.tenant = {"Authorization": f"Bearer {key}"}

    async def send(
        self,
        method: str,
        service: str,
        path: str,
        expect: int,
        *,
        operator: bool = False,
        **options: Any,
    ) -> Any:
        headers = self.platform.auth if operator else self.tenant
        headers = headers | options.pop("headers", {})
        url = f"{self.platform.url(service)}{path}"
        answer = await self.client.request(method, url, headers=headers, **options)
        assert answer.status_code == expect, (method, path, answer.text)
        return answer.json()


async def _tenant(client: httpx.AsyncClient, platform: Platform, plan: Plan) -> TenantWorld:
    op = Center(client, platform, "")
    tenant = {"tenant_id": plan.tenant_id, "name": plan.tenant_id.title()}
    await op.send(
        "POST",
        "intake",
        "/v1/tenants",
        201,
        operator=True,
        json=tenant | {"settings": plan.settings},
    )
    keys = f"/v1/tenants/{plan.tenant_id}/api-keys"
    full = await op.send("POST", "intake", keys, 201, operator=True, json={"scopes": list(SCOPES)})
    world = TenantWorld(
        plan.tenant_id, full["api_key"], full["key_id"], plan.language, plan.customer_ref
    )
    for scope in SCOPES:
        rest = [s for s in SCOPES if s != scope]
        lacking = await op.send("POST", "intake", keys, 201, operator=True, json={"scopes": rest})
        world.without[scope] = lacking["api_key"]
    me = Center(client, platform, world.key)

    survey = await me.send("POST", "surveys", "/v1/surveys", 201, json=POST_CALL_SURVEY)
    world.survey_id = survey["survey_id"]
    settings = plan.settings | {"post_call_survey_id": world.survey_id}
    path = f"/v1/tenants/{plan.tenant_id}/settings"
    await op.send("PUT", "intake", path, 200, operator=True, json=settings)
    customer = {
        "phone": plan.phone,
        "language": plan.language,
        "timezone": "Europe/Berlin",
        "segment": {"region": "north"},
        "consent": CONSENT,
    }
    await me.send("PUT", "surveys", f"/v1/customers/{plan.customer_ref}", 201, json=customer)
    if plan.imported:
        rows = [
            {"customer_ref": ref, "phone": f"+49301000{i}", "language": "de", "timezone": "UTC"}
            for i, ref in enumerate(plan.imported)
        ]
        lines = b"".join(orjson.dumps(row) + b"\n" for row in rows)
        ndjson = {"Content-Type": "application/x-ndjson"}
        await me.send("POST", "surveys", "/v1/customers/import", 200, content=lines, headers=ndjson)
    if plan.campaign:
        made = await me.send("POST", "surveys", "/v1/surveys", 201, json=CAMPAIGN_SURVEY)
        world.campaign_survey_id = made["survey_id"]
        campaign = {"survey_id": world.campaign_survey_id, **CAMPAIGN_RULES}
        made = await me.send("POST", "surveys", "/v1/campaigns", 201, json=campaign)
        world.campaign_id = made["campaign_id"]

    world.agent_id = f"agent-{plan.tenant_id}"
    skills = {f"tenant:{plan.tenant_id}": 1, f"lang:{plan.language}": 5, "topic:billing": 5}
    agent = f"/v1/agents/{world.agent_id}"
    profile = {"name": world.agent_id, "skills": skills}
    await op.send("PUT", "routing", agent, 201, operator=True, json=profile)
    await op.send(
        "PUT", "routing", f"{agent}/status", 200, operator=True, json={"status": "available"}
    )

    for index, (nps, csat) in enumerate(plan.answered):
        first = index == 0  # the first caller is the known customer
        call_id = await _answered_call(me, op, world, plan, first)
        invitation = await _invitation(me, call_id)
        world.invitations.append(invitation)
        answers = {"invitation_id": invitation, "answers": {"nps": nps, "csat": csat}}
        path = f"/v1/surveys/{world.survey_id}/responses"
        world.responses.append(
            (await me.send("POST", "surveys", path, 201, json=answers))["response_id"]
        )
    answers = {"customer_ref": plan.customer_ref, "answers": {"nps": 8}}
    path = f"/v1/surveys/{world.survey_id}/responses"
    world.responses.append(
        (await me.send("POST", "surveys", path, 201, json=answers))["response_id"]
    )
    for _ in range(plan.abandoned):
        call_id = await _sales_call(me, plan)
        await me.send("POST", "intake", f"/v1/calls/{call_id}/hangup", 202, json={"by": "caller"})
        world.abandoned_calls.append(call_id)
    for _ in range(plan.waiting):
        world.waiting_calls.append(await _sales_call(me, plan))
    return world


async def _answered_call(
    me: Center, op: Center, world: TenantWorld, plan: Plan, known: bool
) -> str:
    """A billing call the tenant's agent takes, ends and wraps up."""
    caller = {"customer_ref": plan.customer_ref} if known else {"caller_phone": "+4930555123"}
    call = caller | {"language": plan.language, "topic": "billing"}
    call_id: str = (await me.send("POST", "intake", "/v1/calls", 202, json=call))["call_id"]
    agent = f"/v1/agents/{world.agent_id}"

    async def offered() -> str | None:
        offers = (await op.send("GET", "routing", agent, 200, operator=True))["offers"]
        return next((o["offer_id"] for o in offers if o["call_id"] == call_id), None)

    offer_id = await eventually(offered, timeout=20, what=f"an offer of {call_id}")
    world.offers.append(offer_id)
    await op.send("POST", "routing", f"/v1/offers/{offer_id}/accept", 200, operator=True)
    await _state(me, call_id, "connected")
    await me.send("POST", "intake", f"/v1/calls/{call_id}/hangup", 202, json={"by": "agent"})
    wrap = {"disposition": "resolved", "notes": "helped"}
    await me.send("POST", "intake", f"/v1/calls/{call_id}/wrap-up", 202, json=wrap)
    world.completed_calls.append(call_id)
    return call_id


async def _sales_call(me: Center, plan: Plan) -> str:
    """A call no agent can take (no one has `topic:sales`): it waits in the queue."""
    call = {"caller_phone": "+4930777000", "language": plan.language, "topic": "sales"}
    call_id: str = (await me.send("POST", "intake", "/v1/calls", 202, json=call))["call_id"]
    await _state(me, call_id, "queued")
    return call_id


async def _state(me: Center, call_id: str, wanted: str) -> None:
    async def reached() -> bool:
        view = await me.send("GET", "intake", f"/v1/calls/{call_id}", 200)
        return bool(view["state"] == wanted)

    await eventually(reached, timeout=15, what=f"{call_id} {wanted}")


async def _invitation(me: Center, call_id: str) -> str:
    async def invited() -> str | None:
        found = await me.send("GET", "surveys", "/v1/invitations", 200, params={"call_id": call_id})
        return next((i["invitation_id"] for i in found["invitations"]), None)

    invitation: str = await eventually(invited, timeout=15, what=f"invitation after {call_id}")
    return invitation


async def end_offsets(bootstrap: str, prefix: str) -> dict[str, int]:
    """The end offset of every partition of every topic of the platform (named by prefix)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = sorted(t for t in await admin.list_topics() if t.startswith(prefix))
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        for partition in topic["partitions"]
    ]
    assert len({tp.topic for tp in partitions}) == len(topics), "every topic described"
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {f"{tp.topic}:{tp.partition}": offset for tp, offset in sorted(ends.items())}


async def quiet(platform: Platform, bootstrap: str) -> dict[str, int]:
    """The end offsets once nothing moves: the same twice in a row, every service caught up."""
    seen: list[dict[str, int]] = []

    async def settled() -> dict[str, int] | None:
        now = await end_offsets(bootstrap, platform.topic_prefix)
        assert now, "the platform's topics exist"
        async with httpx.AsyncClient(timeout=5) as client:
            ready = [
                (await client.get(f"{service.url}/readyz")).status_code == 200
                for service in platform.services.values()
            ]
        still = bool(seen) and seen[-1] == now and all(ready)
        seen.append(now)
        return now if still else None

    return await eventually(settled, timeout=30, interval=0.3, what="the log at rest")
