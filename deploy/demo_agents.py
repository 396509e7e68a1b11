"""Simulated agents for `make run`: they go available, take offers, talk, hang up, wrap up.

Now and then one declines an offer or lets it ring out (and comes back a little later), so
every routing path shows up in the decisions; every few seconds the queues are printed. A few
agents have the skill `campaign`: on a campaign call they record the survey answers (or the
customer does not pick up); after an inbound call they answer its post-call invitation, as
the caller would on the phone.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx

INTAKE = os.environ.get("DEMO_INTAKE_URL", "http://127.0.0.1:8001")
ROUTING = os.environ.get("DEMO_ROUTING_URL", "http://127.0.0.1:8002")
TENANTS = ("acme-energy", "globex-telecom", "initech-shop")
TOPICS = ("billing", "outage", "contract", "returns")
LANGUAGES = ("de", "en", "fr")
AGENTS = int(os.environ.get("DEMO_AGENTS", "10"))
TALK_S = float(os.environ.get("DEMO_TALK_S", "12"))
HEARTBEAT_S = 20.0
REJECTS, RINGS_OUT = 0.04, 0.03  # of the offers an agent gets
SURVEYS = os.environ.get("DEMO_SURVEYS_URL", "http://127.0.0.1:8003")
SURVEY_IDS = Path(os.environ.get("DEMO_SURVEYS_FILE", ".local/run/demo_surveys.json"))
CAMPAIGN_AGENTS = 3
NO_ANSWER = 0.2  # of the campaign calls


def _profile(number: int, rng: random.Random) -> dict[str, object]:
    """Every agent serves every tenant; languages and topics vary, at levels 3 to 10."""
    languages = {LANGUAGES[number % len(LANGUAGES)], rng.choice(LANGUAGES)}
    skills = {f"tenant:{tenant}": 1 for tenant in TENANTS}
    skills |= {f"lang:{language}": rng.randint(3, 10) for language in languages}
    skills |= {f"topic:{topic}": rng.randint(3, 10) for topic in TOPICS}
    if number < CAMPAIGN_AGENTS:
        skills |= {"campaign": 5, "lang:de": 8}
    return {"name": f"Demo agent {number}", "skills": skills, "capacity": 1}


class DemoAgent:
    def __init__(self, client: httpx.AsyncClient, agent_id: str, rng: random.Random) -> None:
        self.client = client
        self.url = f"{ROUTING}/v1/agents/{agent_id}"
        self.rng = rng
        self.tasks: set[asyncio.Task[None]] = set()

    async def work(self, profile: dict[str, object]) -> None:
        await self.client.put(self.url, json=profile)
        await self._status("available")
        beat = asyncio.get_running_loop().time()
        while True:
            view = await self.client.get(self.url)
            if view.status_code == 200:
                for offer in view.json()["offers"]:
                    await self._answer(offer)
            if asyncio.get_running_loop().time() - beat > HEARTBEAT_S:
                await self.client.post(f"{self.url}/heartbeat")
                beat = asyncio.get_running_loop().time()
            await asyncio.sleep(0.5)

    async def _answer(self, offer: dict[str, str]) -> None:
        roll = self.rng.random()
        if roll < REJECTS:
            await self.client.post(f"{ROUTING}/v1/offers/{offer['offer_id']}/reject")
        elif roll < REJECTS + RINGS_OUT:  # routing sets this agent away; back after a break
            self._keep(self._back_after_a_break())
        else:
            accepted = await self.client.post(f"{ROUTING}/v1/offers/{offer['offer_id']}/accept")
            if accepted.status_code == 200:
                self._keep(self._talk(offer["call_id"]))

    def _keep(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _talk(self, call_id: str) -> None:
        await asyncio.sleep(self.rng.expovariate(1 / TALK_S))
        call = await self.client.get(f"{INTAKE}/v1/calls/{call_id}")
        outbound = call.status_code == 200 and call.json()["direction"] == "outbound"
        hangup: dict[str, str] = {"by": "agent"}
        if outbound:
            hangup["outcome"] = await self._survey(call_id)
        ended = await self.client.post(f"{INTAKE}/v1/calls/{call_id}/hangup", json=hangup)
        if ended.status_code != 202:
            return
        await asyncio.sleep(self.rng.uniform(2, 5))
        await self.client.post(
            f"{INTAKE}/v1/calls/{call_id}/wrap-up",
            json={
                "disposition": self.rng.choice(("resolved", "resolved", "callback", "escalated"))
            },
        )
        if not outbound:
            self._keep(self._answer_invitation(call_id))

    async def _survey(self, call_id: str) -> str:
        """Ask the campaign's questions on the call; the outcome of the call."""
        ids = _survey_ids()
        if "campaign_survey_id" not in ids or self.rng.random() < NO_ANSWER:
            return "no_answer"
        answers = {
            "nps": self.rng.choice((3, 6, 7, 8, 9, 9, 10, 10)),
            "price": self.rng.randint(1, 5),
            "service": self.rng.randint(2, 5),
            "packaging": self.rng.choice(("good", "too much")),
        }
        url = f"{SURVEYS}/v1/surveys/{ids['campaign_survey_id']}/responses"
        await self.client.post(url, json={"call_id": call_id, "answers": answers})
        return "reached"

    async def _answer_invitation(self, call_id: str) -> None:
        """The caller answers the post-call survey (most do, on the phone, after the call)."""
        if self.rng.random() < 0.3:
            return
        url = f"{SURVEYS}/v1/invitations"
        answer = await self.client.get(url, params={"call_id": call_id})
        found = answer.json()["invitations"] if answer.status_code == 200 else []
        for invitation in found:
            body = {
                "invitation_id": invitation["invitation_id"],
                "answers": {"csat": self.rng.randint(2, 5)},
            }
            await self.client.post(
                f"{SURVEYS}/v1/surveys/{invitation['survey_id']}/responses", json=body
            )

    async def _back_after_a_break(self) -> None:
        await asyncio.sleep(30)
        await self._status("available")

    async def _status(self, status: str) -> None:
        await self.client.put(f"{self.url}/status", json={"status": status})


def _survey_ids() -> dict[str, str]:
    """The ids the surveys demo wrote (none before it is set up)."""
    try:
        ids: dict[str, str] = json.loads(SURVEY_IDS.read_text())
    except (OSError, ValueError):
        return {}
    return ids


async def _print_queues(client: httpx.AsyncClient) -> None:
    while True:
        await asyncio.sleep(15)
        answer = await client.get(f"{ROUTING}/v1/queues")
        if answer.status_code != 200:
            continue
        queues = answer.json()["queues"]
        waiting = sum(queue["waiting"] for queue in queues)
        longest = max((queue["longest_wait_s"] for queue in queues), default=0)
        print(f"agents: {waiting} calls waiting in {len(queues)} queues, longest {longest:.0f} s")


async def main() -> None:
    token = os.environ.get("CALLCENTER_OPERATOR_TOKEN", "dev-operator-token")
    rng = random.Random()
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        agents = [
            DemoAgent(client, f"demo-agent-{n}", random.Random(rng.random())).work(_profile(n, rng))
            for n in range(AGENTS)
        ]
        await asyncio.gather(*agents, _print_queues(client))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    except httpx.TransportError as exc:
        print(f"agents: stopped, the services are not reachable ({exc!r})", flush=True)
