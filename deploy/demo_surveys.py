"""The surveys part of `make run`: customers with consent, a campaign, a post-call survey.

Sets up (once; a rerun finds everything in place) for the tenant `acme-energy`: 60 customers
in zones around the world (most consented, some not, one withdrew), a campaign survey and a
campaign over the north and east regions, and a post-call survey in the tenant's settings.
Writes the survey ids to `.local/run/demo_surveys.json`, where the simulated agents find them.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from pathlib import Path
from typing import Any

import httpx

INTAKE = os.environ.get("DEMO_INTAKE_URL", "http://127.0.0.1:8001")
SURVEYS = os.environ.get("DEMO_SURVEYS_URL", "http://127.0.0.1:8003")
TENANT = "acme-energy"
IDS_FILE = Path(os.environ.get("DEMO_SURVEYS_FILE", ".local/run/demo_surveys.json"))
ZONES = ("Europe/Berlin", "Europe/Vienna", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
REGIONS = ("north", "east", "south", "west")
CAMPAIGN_SURVEY: dict[str, Any] = {
    "name": "Acme Energy: what do you think?",
    "kind": "campaign",
    "questions": [
        {"id": "nps", "type": "nps", "text": "Would you recommend us?", "required": True},
        {"id": "price", "type": "rating", "text": "The price?", "scale": {"min": 1, "max": 5}},
        {"id": "service", "type": "csat", "text": "Our service?", "topic": "service"},
        {
            "id": "packaging",
            "type": "choice",
            "text": "The packaging?",
            "options": ["good", "too much"],
        },
    ],
}
POST_CALL_SURVEY: dict[str, Any] = {
    "name": "Acme Energy: after your call",
    "kind": "post_call",
    "questions": [{"id": "csat", "type": "csat", "text": "Were you helped?", "required": True}],
}


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any], key: str) -> Any:
    answer = await client.post(f"{SURVEYS}{path}", json=body, headers={"Idempotency-Key": key})
    answer.raise_for_status()
    return answer.json()


def _customer(number: int, rng: random.Random) -> dict[str, Any]:
    consent = rng.random() < 0.85
    return {
        "phone": f"+4930{7000000 + number}",
        "language": "de",
        "timezone": rng.choice(ZONES),
        "segment": {
            "region": rng.choice(REGIONS),
            "age_band": rng.choice(("18-29", "30-49", "50+")),
            "products": rng.sample(["power", "gas", "solar"], rng.randint(1, 2)),
        },
        "consent": {"marketing_calls": consent, "source": "web-form", "at": "2026-01-10T09:00:00Z"},
    }


async def _tenant_ready(client: httpx.AsyncClient) -> None:
    for _ in range(100):  # demo_calls creates the tenants
        if (await client.get(f"{INTAKE}/v1/tenants/{TENANT}")).status_code == 200:
            return
        await client.post(f"{INTAKE}/v1/tenants", json={"tenant_id": TENANT, "name": TENANT})
        await asyncio.sleep(0.2)


async def main() -> dict[str, str]:
    token = os.environ.get("CALLCENTER_OPERATOR_TOKEN", "dev-operator-token")
    rng = random.Random(7)
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, params={"tenant_id": TENANT}, timeout=10
    ) as client:
        await _tenant_ready(client)
        for number in range(60):
            url = f"{SURVEYS}/v1/customers/demo-{number}"
            (await client.put(url, json=_customer(number, rng))).raise_for_status()
        withdrawal = {"marketing_calls": False, "source": "call", "at": "2026-02-01T10:00:00Z"}
        await client.post(f"{SURVEYS}/v1/customers/demo-0/consent", json=withdrawal)
        body = CAMPAIGN_SURVEY | {"tenant_id": TENANT}
        campaign_survey = await _post(client, "/v1/surveys", body, "demo-campaign-survey")
        body = POST_CALL_SURVEY | {"tenant_id": TENANT}
        post_call = await _post(client, "/v1/surveys", body, "demo-post-call-survey")
        settings = {"post_call_survey_id": post_call["survey_id"]}
        answer = await client.put(f"{INTAKE}/v1/tenants/{TENANT}/settings", json=settings)
        answer.raise_for_status()
        campaign = await _post(client, "/v1/campaigns", _campaign(campaign_survey), "demo-campaign")
    return {
        "campaign_survey_id": campaign_survey["survey_id"],
        "post_call_survey_id": post_call["survey_id"],
        "campaign_id": campaign["campaign_id"],
    }


def _announce(ids: dict[str, str]) -> None:
    IDS_FILE.parent.mkdir(parents=True, exist_ok=True)
    IDS_FILE.write_text(json.dumps(ids))
    campaign = ids["campaign_id"]
    print(f"surveys demo: campaign {campaign} runs: {SURVEYS}/v1/campaigns/{campaign}", flush=True)


def _campaign(survey: dict[str, Any]) -> dict[str, Any]:
    return {
        "tenant_id": TENANT,
        "survey_id": survey["survey_id"],
        "name": "North and east, winter",
        "audience": {"region": ["north", "east"]},
        "window": {"start": "08:00", "end": "20:00"},
        "max_attempts": 2,
        "retry_after_s": 300,
        "rest_days": 0,
    }


if __name__ == "__main__":
    _announce(asyncio.run(main()))
