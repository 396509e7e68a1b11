"""Every tenant endpoint of every service, swept: another tenant finds nothing, changes nothing.

The endpoints come from the services' own OpenAPI documents (`app.openapi()`): each
path and method a tenant's API key may call is in `SWEPT`, with the scope it needs and the
requests another tenant could make with the ids it learned or guessed. Every other endpoint is
in `OPERATOR_ONLY` or `NOT_TENANT_DATA` with the reason; an endpoint in neither fails
`test_every_documented_endpoint_is_swept_or_listed`, so a new one cannot escape.

For every swept endpoint, B's key with A's real ids, and with guessed ids, gets 404
(problem+json), the same answer for both (nothing tells a foreign id from an unknown one);
A's key lacking the endpoint's scope gets 403; a wrong key gets 401. Afterwards the end offset
of every topic is what it was, and A reads back exactly what it read before.

Where the right answer is not 404 (written down at each such request, `expect=`):
- `POST /v1/campaigns` naming another tenant's survey in the body: 422 `unknown_survey`, as for
  a survey that does not exist (the path is the tenant's own collection; the body refers to
  something it does not have).
- `GET /v1/invitations?call_id=` of another tenant's call: 200 with an empty list, as for an
  unknown call (a filter of the caller's own invitations).
- ids a client chooses (customer references) and `Idempotency-Key`s are per tenant: B's
  `PUT /v1/customers/{A's ref}` without naming a tenant creates B's own customer (201) and A's
  is untouched; B's `POST /v1/calls` with A's customer reference is B's call of B's customer;
  B retrying A's request with A's `Idempotency-Key` gets a new call of its own, not A's answer;
  B's campaign for an audience of everyone targets B's customers, none of A's; B erasing its
  customer of A's reference and A's number leaves A's customer and number readable.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from analytics.app import create_app as analytics_app
from analytics.settings import AnalyticsSettings
from callcenter_testkit.isolation import (
    CAMPAIGN_SURVEY,
    CONSENT,
    PLANS,
    POST_CALL_SURVEY,
    SCOPES,
    TenantWorld,
    World,
    end_offsets,
    quiet,
)
from callcenter_testkit.tally import count
from intake.app import create_app as intake_app
from intake.settings import IntakeSettings
from routing.app import create_app as routing_app
from routing.settings import RoutingSettings
from surveys.app import create_app as surveys_app
from surveys.settings import SurveysSettings

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(300)]

PROBLEM = "application/problem+json"
CSV = {"Accept": "text/csv"}
NDJSON = {"Content-Type": "application/x-ndjson"}
A_PHONE = PLANS[0].phone
VOLATILE = frozenset({"longest_wait_s", "now", "as_of", "from", "to", "idle_since"})


@dataclass(frozen=True)
class Ids:
    """The ids a request names: one tenant's real ones, or guessed ones."""

    tenant: str
    call: str  # completed
    waiting_call: str
    survey: str
    campaign_survey: str
    campaign: str
    customer: str
    invitation: str
    offer: str
    agent: str
    key_id: str

    @classmethod
    def of(cls, tenant: TenantWorld) -> Ids:
        return cls(
            tenant.tenant_id,
            tenant.completed_calls[0],
            tenant.waiting_calls[0],
            tenant.survey_id,
            tenant.campaign_survey_id or tenant.survey_id,
            tenant.campaign_id or "cp-none",
            tenant.customer_ref,
            tenant.invitations[0],
            tenant.offers[0],
            tenant.agent_id,
            tenant.key_id,
        )

    def guessed(self) -> Ids:
        """Ids shaped like these, that name nothing."""
        return Ids(*(_near(value) for value in vars(self).values()))


def _near(real: str) -> str:
    return (
        f"{real[:-8]}{secrets.token_hex(4)}" if len(real) > 8 else f"{real}-{secrets.token_hex(3)}"
    )


@dataclass(frozen=True)
class Try:
    """One request another tenant could make; `expect` is what another tenant's key gets."""

    path: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    expect: int = 404


# (the ids aimed at, the sender's own ids) -> the requests
Tries = Callable[[Ids, Ids], list[Try]]


@dataclass(frozen=True)
class Endpoint:
    service: str
    method: str
    template: str
    scope: str | None  # None: any key of the tenant
    tries: Tries

    @property
    def name(self) -> str:
        return f"{self.service} {self.method} {self.template}"

    async def request(
        self, client: httpx.AsyncClient, world: World, attempt: Try, auth: dict[str, str]
    ) -> httpx.Response:
        url = world.platform.url(self.service) + self.template.format(**attempt.path)
        return await client.request(
            self.method,
            url,
            params=attempt.params,
            json=attempt.json,
            content=attempt.content,
            headers=attempt.headers | auth,
        )


CALL = {"caller_phone": "+4930222333", "language": "de", "topic": "sales"}
SURVEY = dict(POST_CALL_SURVEY)
CUSTOMER = {
    "phone": "+4930666777",
    "language": "de",
    "timezone": "UTC",
    "segment": {"region": "south"},
    "consent": CONSENT,
}
WITHDRAWAL = {"marketing_calls": False, "source": "call", "at": "2026-03-01T10:00:00Z"}
LINE = b'{"customer_ref": "x-1", "phone": "+4930111", "language": "de", "timezone": "UTC"}\n'
RULES = {
    "audience": {},
    "window": {"start": "09:00", "end": "18:00"},
    "max_attempts": 1,
    "retry_after_s": 600,
    "rest_days": 0,
}


def _customer(t: Ids, **more: Any) -> list[Try]:
    """A customer reference is the tenant's own: asked with and without naming the tenant."""
    ref = {"customer_ref": t.customer}
    return [Try(ref, {"tenant_id": t.tenant}, **more), Try(ref, **more)]


SWEPT = (
    Endpoint(
        "intake",
        "POST",
        "/v1/calls",
        "calls:write",
        lambda t, _: [Try(json=CALL | {"tenant_id": t.tenant})],
    ),
    Endpoint(
        "intake",
        "GET",
        "/v1/calls",
        "calls:read",
        lambda t, _: [Try(params={"tenant_id": t.tenant})],
    ),
    Endpoint(
        "intake",
        "GET",
        "/v1/calls/{call_id}",
        "calls:read",
        lambda t, _: [Try({"call_id": t.call}), Try({"call_id": t.waiting_call})],
    ),
    Endpoint(
        "intake",
        "POST",
        "/v1/calls/{call_id}/hangup",
        "calls:write",
        lambda t, _: [Try({"call_id": t.waiting_call}, json={"by": "caller"})],
    ),
    Endpoint(
        "intake",
        "POST",
        "/v1/calls/{call_id}/wrap-up",
        "calls:write",
        lambda t, _: [Try({"call_id": t.call}, json={"disposition": "stolen"})],
    ),
    Endpoint(
        "intake",
        "GET",
        "/v1/tenants/{tenant_id}",
        None,
        lambda t, _: [Try({"tenant_id": t.tenant})],
    ),
    Endpoint(
        "routing",
        "GET",
        "/v1/routing-policies/{tenant_id}",
        "calls:read",
        lambda t, _: [Try({"tenant_id": t.tenant})],
    ),
    Endpoint(
        "routing",
        "GET",
        "/v1/queues",
        "calls:read",
        lambda t, _: [Try(params={"tenant_id": t.tenant})],
    ),
    Endpoint(
        "routing",
        "GET",
        "/v1/calls/{call_id}/routing",
        "calls:read",
        lambda t, _: [Try({"call_id": t.call}), Try({"call_id": t.waiting_call})],
    ),
    Endpoint(
        "surveys",
        "PUT",
        "/v1/customers/{customer_ref}",
        "surveys:write",
        lambda t, _: _customer(t, json=CUSTOMER)[:1],
    ),  # without a tenant: B's own (below)
    Endpoint(
        "surveys", "GET", "/v1/customers/{customer_ref}", "surveys:read", lambda t, _: _customer(t)
    ),
    Endpoint(
        "surveys",
        "DELETE",
        "/v1/customers/{customer_ref}",
        "surveys:write",
        lambda t, _: _customer(t),
    ),
    Endpoint(
        "surveys",
        "POST",
        "/v1/customers/{customer_ref}/consent",
        "surveys:write",
        lambda t, _: _customer(t, json=WITHDRAWAL),
    ),
    Endpoint(
        "surveys",
        "GET",
        "/v1/customers/{customer_ref}/consent",
        "surveys:read",
        lambda t, _: _customer(t),
    ),
    Endpoint(
        "surveys",
        "POST",
        "/v1/customers/import",
        "surveys:write",
        lambda t, _: [Try(params={"tenant_id": t.tenant}, content=LINE, headers=NDJSON)],
    ),
    Endpoint(
        "surveys",
        "POST",
        "/v1/surveys",
        "surveys:write",
        lambda t, _: [Try(json=SURVEY | {"tenant_id": t.tenant})],
    ),
    Endpoint(
        "surveys",
        "GET",
        "/v1/surveys/{survey_id}",
        "surveys:read",
        lambda t, _: [Try({"survey_id": t.survey}), Try({"survey_id": t.campaign_survey})],
    ),
    Endpoint(
        "surveys",
        "PUT",
        "/v1/surveys/{survey_id}",
        "surveys:write",
        lambda t, _: [Try({"survey_id": t.survey}, json=SURVEY)],
    ),
    Endpoint(
        "surveys",
        "POST",
        "/v1/surveys/{survey_id}/responses",
        "surveys:write",
        lambda t, me: [
            Try({"survey_id": t.survey}, json={"customer_ref": t.customer, "answers": {"nps": 0}}),
            Try(
                {"survey_id": t.survey}, json={"invitation_id": t.invitation, "answers": {"nps": 0}}
            ),
            # the sender's own survey, answered for the other tenant's call or invitation
            Try({"survey_id": me.survey}, json={"call_id": t.call, "answers": {"nps": 0}}),
            Try(
                {"survey_id": me.survey},
                json={"invitation_id": t.invitation, "answers": {"nps": 0}},
            ),
        ],
    ),
    Endpoint(
        "surveys",
        "POST",
        "/v1/campaigns",
        "surveys:write",
        lambda t, _: [
            # a survey the tenant does not have, named in the body: 422 as for none at all
            Try(json={"survey_id": t.campaign_survey, **RULES}, expect=422),
            Try(json={"survey_id": t.campaign_survey, "tenant_id": t.tenant, **RULES}),
        ],
    ),
    Endpoint(
        "surveys",
        "GET",
        "/v1/campaigns/{campaign_id}",
        "surveys:read",
        lambda t, _: [Try({"campaign_id": t.campaign})],
    ),
    Endpoint(
        "surveys",
        "POST",
        "/v1/campaigns/{campaign_id}/stop",
        "surveys:write",
        lambda t, _: [Try({"campaign_id": t.campaign})],
    ),
    Endpoint(
        "surveys",
        "GET",
        "/v1/invitations",
        "surveys:read",
        # a filter of the caller's own invitations: empty, as for an unknown call
        lambda t, _: [Try(params={"call_id": t.call}, expect=200)],
    ),
    Endpoint(
        "analytics",
        "GET",
        "/v1/analytics/calls",
        "analytics:read",
        lambda t, _: [
            Try(params={"tenant_id": t.tenant}),
            Try(params={"tenant_id": t.tenant}, headers=CSV),
        ],
    ),
    Endpoint(
        "analytics",
        "GET",
        "/v1/analytics/surveys/{survey_id}",
        "analytics:read",
        lambda t, me: [
            Try({"survey_id": t.survey}),
            Try({"survey_id": t.survey}, headers=CSV),
            Try({"survey_id": me.survey}, {"tenant_id": t.tenant}),
        ],
    ),
    Endpoint(
        "analytics",
        "GET",
        "/v1/analytics/realtime",
        "analytics:read",
        lambda t, _: [
            Try(params={"tenant_id": t.tenant}),
            Try(params={"tenant_id": t.tenant}, headers=CSV),
            Try(params={"tenant_id": t.tenant, "table": "skills"}, headers=CSV),
        ],
    ),
    Endpoint(
        "analytics",
        "GET",
        "/v1/analytics/surveys",
        "analytics:read",
        lambda t, _: [Try(params={"tenant_id": t.tenant})],
    ),
    Endpoint(
        "analytics",
        "GET",
        "/v1/analytics/tenants",
        "analytics:read",
        lambda t, _: [Try(params={"tenant_id": t.tenant})],
    ),
)

# The call center's own business: a tenant's key gets 403, whatever it names.
OPERATOR_ONLY = (
    Endpoint(
        "intake",
        "POST",
        "/v1/tenants",
        None,
        lambda t, _: [Try(json={"name": "Sneaky", "tenant_id": f"{t.tenant}-2"})],
    ),
    Endpoint(
        "intake",
        "PUT",
        "/v1/tenants/{tenant_id}/settings",
        None,
        lambda t, _: [Try({"tenant_id": t.tenant}, json={"short_abandon_s": 600})],
    ),
    Endpoint(
        "intake",
        "POST",
        "/v1/tenants/{tenant_id}/api-keys",
        None,
        lambda t, _: [Try({"tenant_id": t.tenant}, json={"scopes": list(SCOPES)})],
    ),
    Endpoint(
        "intake",
        "DELETE",
        "/v1/tenants/{tenant_id}/api-keys/{key_id}",
        None,
        lambda t, _: [Try({"tenant_id": t.tenant, "key_id": t.key_id})],
    ),
    Endpoint(
        "intake",
        "POST",
        "/v1/tenants/{tenant_id}/erasures",
        None,
        lambda t, _: [Try({"tenant_id": t.tenant}, json={"caller_phone": "+4930555123"})],
    ),
    Endpoint(
        "routing",
        "PUT",
        "/v1/agents/{agent_id}",
        None,
        lambda t, _: [Try({"agent_id": t.agent}, json={"name": "x", "skills": {"lang:de": 1}})],
    ),
    Endpoint(
        "routing", "GET", "/v1/agents/{agent_id}", None, lambda t, _: [Try({"agent_id": t.agent})]
    ),
    Endpoint(
        "routing",
        "PUT",
        "/v1/agents/{agent_id}/status",
        None,
        lambda t, _: [Try({"agent_id": t.agent}, json={"status": "offline"})],
    ),
    Endpoint(
        "routing",
        "POST",
        "/v1/agents/{agent_id}/heartbeat",
        None,
        lambda t, _: [Try({"agent_id": t.agent})],
    ),
    Endpoint("routing", "GET", "/v1/agents", None, lambda t, _: [Try()]),
    Endpoint(
        "routing",
        "POST",
        "/v1/offers/{offer_id}/accept",
        None,
        lambda t, _: [Try({"offer_id": t.offer})],
    ),
    Endpoint(
        "routing",
        "POST",
        "/v1/offers/{offer_id}/reject",
        None,
        lambda t, _: [Try({"offer_id": t.offer})],
    ),
    Endpoint(
        "routing",
        "PUT",
        "/v1/routing-policies/{tenant_id}",
        None,
        lambda t, _: [
            Try({"tenant_id": t.tenant}, json={"selection": "best_skill", "offer_timeout_s": 1})
        ],
    ),
    Endpoint("analytics", "GET", "/v1/analytics/agents", None, lambda t, _: [Try()]),
)
OPERATOR_REASON = (
    "the operator's: tenants and keys, erasure by number, agents (staff of the call center, "
    "serving many tenants) and their offers, routing policies, agents' time"
)

# Endpoints that hold no tenant's data, with the reason.
EVERY_SERVICE = ("intake", "routing", "surveys", "analytics")
NOT_TENANT_DATA: dict[tuple[str, str, str], str] = {
    **{(s, "GET", "/livez"): "public probe, no token" for s in EVERY_SERVICE},
    **{(s, "GET", "/readyz"): "public probe, no token" for s in EVERY_SERVICE},
    **{
        (s, "GET", "/metrics"): (
            "Prometheus scrape without a token, meant for the operator's network (routing's "
            "queue gauges carry tenant ids as labels)"
        )
        for s in EVERY_SERVICE
    },
    **{(s, "GET", "/asyncapi.json"): "public document of the events" for s in EVERY_SERVICE},
    **{
        (s, "GET", "/v1/whoami"): "any valid token; answers about that token only"
        for s in EVERY_SERVICE
    },
    ("analytics", "GET", "/v1/projections"): (
        "analytics:read; the projections' names, versions, positions and lag: the platform's "
        "state, no tenant's data (scope and 401 still checked)"
    ),
}


def documented() -> set[tuple[str, str, str]]:
    """Every (service, method, path) of the four services' OpenAPI documents."""
    apps = {
        "intake": intake_app(IntakeSettings()),
        "routing": routing_app(RoutingSettings()),
        "surveys": surveys_app(SurveysSettings()),
        "analytics": analytics_app(AnalyticsSettings()),
    }
    return {
        (service, method.upper(), path)
        for service, app in apps.items()
        for path, item in app.openapi()["paths"].items()
        for method in item
    }


def test_every_documented_endpoint_is_swept_or_listed() -> None:
    swept = [(e.service, e.method, e.template) for e in SWEPT]
    reasons = {(e.service, e.method, e.template): OPERATOR_REASON for e in OPERATOR_ONLY}
    reasons |= NOT_TENANT_DATA
    listed = [*swept, *reasons]
    assert len(OPERATOR_ONLY) + len(NOT_TENANT_DATA) == len(reasons), "each listed once"
    assert len(listed) == len(set(listed)), "no endpoint both swept and listed"
    found = documented()
    assert sorted(found - set(listed)) == [], "endpoints neither swept nor listed with a reason"
    assert sorted(set(listed) - found) == [], "listed endpoints the documents do not have"
    assert all(reasons.values())
    count("isolation", "endpoints documented", len(found))
    count("isolation", "endpoints listed as no tenant's", len(reasons))


class Sweep:
    """Sends the requests, checks each answer, counts them."""

    def __init__(self, client: httpx.AsyncClient, world: World) -> None:
        self.client = client
        self.world = world
        self.a, self.b = Ids.of(world.a), Ids.of(world.b)
        self.secrets = _values_of(world.a)
        self.requests = 0

    async def send(self, endpoint: Endpoint, attempt: Try, key: str) -> httpx.Response:
        auth = {"Authorization": f"Bearer {key}"} if key else {}
        self.requests += 1
        return await endpoint.request(self.client, self.world, attempt, auth)

    async def refused(
        self, endpoint: Endpoint, attempt: Try, key: str, status: int
    ) -> httpx.Response:
        """The answer is `status`; a refusal is a problem document; none shows A's data."""
        answer = await self.send(endpoint, attempt, key)
        where = (endpoint.name, attempt, answer.text)
        assert answer.status_code == status, where
        if status >= 400:
            assert answer.headers["content-type"] == PROBLEM, where
            assert answer.json()["detail"] != "Not Found", ("a route that does not exist", where)
        asked = repr(attempt)
        leaked = [value for value in self.secrets if value in answer.text and value not in asked]
        assert leaked == [], (endpoint.name, "answers with A's data", leaked)
        return answer

    async def a_reads(self) -> dict[str, Any]:
        """What A reads through every swept GET (JSON), with its full key and its own ids."""
        seen: dict[str, Any] = {}
        for endpoint in SWEPT:
            if endpoint.method != "GET":
                continue
            for index, attempt in enumerate(endpoint.tries(self.a, self.a)):
                if attempt.headers:
                    continue
                answer = await self.send(endpoint, attempt, self.world.a.key)
                assert answer.status_code == 200, (endpoint.name, attempt, answer.text)
                seen[f"{endpoint.name} #{index}"] = _stable(answer.json())
        return seen


def _values_of(tenant: TenantWorld) -> list[str]:
    """A's ids and personal values that no answer to B may hold."""
    values = [
        *tenant.completed_calls,
        *tenant.abandoned_calls,
        *tenant.waiting_calls,
        *tenant.invitations,
        *tenant.responses,
        tenant.survey_id,
        tenant.campaign_survey_id,
        tenant.campaign_id,
        tenant.customer_ref,
        tenant.tenant_id,
        A_PHONE,
    ]
    return [value for value in values if value]


def _stable(body: Any) -> Any:
    """The answer without what changes with the clock alone."""
    if isinstance(body, dict):
        return {k: _stable(v) for k, v in body.items() if k not in VOLATILE}
    if isinstance(body, list):
        return [_stable(item) for item in body]
    return body


def _problem(answer: httpx.Response, ids: Ids) -> tuple[int, str]:
    """The problem with the ids it names blanked: a foreign id and an unknown one alike."""
    detail: str = answer.json()["detail"]
    for value in sorted(vars(ids).values(), key=len, reverse=True):
        detail = detail.replace(value, "<id>")
    return answer.status_code, detail


async def test_another_tenant_finds_nothing_and_changes_nothing(world: World) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        sweep = Sweep(client, world)
        a, b = sweep.a, sweep.b
        before = await quiet(world.platform, world.bootstrap)
        a_before = await sweep.a_reads()

        for endpoint in SWEPT:
            guessed = a.guessed()
            foreign = endpoint.tries(a, b)
            unknown_to_b, unknown_to_a = endpoint.tries(guessed, b), endpoint.tries(guessed, a)
            for attempt, guess, own in zip(foreign, unknown_to_b, unknown_to_a, strict=True):
                answer = await sweep.refused(endpoint, attempt, world.b.key, attempt.expect)
                unknown = await sweep.refused(endpoint, guess, world.b.key, attempt.expect)
                await sweep.refused(endpoint, own, world.a.key, attempt.expect)
                if attempt.expect == 200:
                    assert answer.json() == unknown.json() == {"invitations": []}, endpoint.name
                else:
                    assert _problem(answer, a) == _problem(unknown, guessed), (
                        endpoint.name,
                        "a foreign id answers as an unknown one does",
                    )
            if endpoint.scope is not None:
                lacking = world.a.without[endpoint.scope]
                for attempt in endpoint.tries(a, a):
                    await sweep.refused(endpoint, attempt, lacking, 403)
            first = foreign[0]
            forged = f"cck_{world.a.key_id}_{secrets.token_urlsafe(32)}"
            for wrong in ("", "not-a-key", forged):
                await sweep.refused(endpoint, first, wrong, 401)
        count("isolation", "endpoints swept", len(SWEPT))

        for endpoint in OPERATOR_ONLY:
            for attempt in endpoint.tries(a, b):
                for key in (world.a.key, world.b.key):
                    await sweep.refused(endpoint, attempt, key, 403)
        count("isolation", "operator-only endpoints refused to keys", len(OPERATOR_ONLY))
        projections = Endpoint(
            "analytics", "GET", "/v1/projections", "analytics:read", lambda t, _: [Try()]
        )
        await sweep.refused(projections, Try(), world.a.without["analytics:read"], 403)
        await sweep.refused(projections, Try(), "not-a-key", 401)

        after = await end_offsets(world.bootstrap, world.platform.topic_prefix)
        assert after == before, "no topic got a record from the refused requests"
        assert await sweep.a_reads() == a_before, "A reads what it read before"
        await _own_namespace(sweep, a_before)
        count("isolation", "requests", sweep.requests)


async def _own_namespace(sweep: Sweep, a_before: dict[str, Any]) -> None:
    """Client-chosen ids and idempotency keys are per tenant: B's use of A's is B's own; B's
    campaign for an audience of everyone targets B's customers only."""
    world, client = sweep.world, sweep.client
    a_auth = {"Authorization": f"Bearer {world.a.key}"}
    b_auth = {"Authorization": f"Bearer {world.b.key}"}
    surveys, intake = world.platform.url("surveys"), world.platform.url("intake")
    ref = f"{surveys}/v1/customers/{world.a.customer_ref}"

    twin = CUSTOMER | {"phone": A_PHONE}  # A's reference and A's customer's number
    created = await client.put(ref, json=twin, headers=b_auth)
    assert created.status_code == 201, ("B's own customer of the same reference", created.text)
    mine = await client.get(
        ref, params={"min_position": created.json()["position"]}, headers=b_auth
    )
    assert (mine.json()["tenant_id"], mine.json()["segment"]) == ("globex", twin["segment"])
    call = CALL | {"customer_ref": world.a.customer_ref}
    posted = await client.post(f"{intake}/v1/calls", json=call, headers=b_auth)
    assert posted.status_code == 202, posted.text
    seen = await client.get(
        f"{intake}/v1/calls/{posted.json()['call_id']}",
        params={"min_position": posted.json()["position"]},
        headers=b_auth,
    )
    assert seen.json()["tenant_id"] == "globex"
    survey = await client.post(f"{surveys}/v1/surveys", json=CAMPAIGN_SURVEY, headers=b_auth)
    everyone = {"survey_id": survey.json()["survey_id"], **RULES}  # an audience of all
    campaign = await client.post(f"{surveys}/v1/campaigns", json=everyone, headers=b_auth)
    assert campaign.status_code == 201, campaign.text
    progress = await client.get(
        f"{surveys}/v1/campaigns/{campaign.json()['campaign_id']}",
        params={"min_position": campaign.json()["position"]},
        headers=b_auth,
    )
    assert progress.json()["targeted"] == 2, ("B's two customers, none of A's", progress.text)
    erased = await client.delete(ref, headers=b_auth)  # B's twin, and the key of its number
    assert erased.status_code == 202, erased.text
    sweep.requests += 8
    await quiet(world.platform, world.bootstrap)
    assert await sweep.a_reads() == a_before, "A's customer (its number too), calls untouched"

    retry = {"Idempotency-Key": f"iso-{secrets.token_hex(4)}"}
    first = await client.post(f"{intake}/v1/calls", json=CALL, headers=a_auth | retry)
    again = await client.post(f"{intake}/v1/calls", json=CALL, headers=b_auth | retry)
    assert (first.status_code, again.status_code) == (202, 202), again.text
    assert again.json()["call_id"] != first.json()["call_id"], "B never gets A's answer"
    assert "idempotent-replayed" not in again.headers
    sweep.requests += 2
