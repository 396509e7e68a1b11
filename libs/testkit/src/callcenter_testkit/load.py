"""A steady stream of calls, agents' work and survey answers, through the public HTTP APIs only.

`SteadyLoad` plays the telephony, the agents' desktops and the customers of one tenant:

- calls are reported to intake at a steady rate (each with its own `Idempotency-Key`, retried
  with the same key while intake or the broker is away); some callers hang up while waiting;
- each agent says it is available, takes the offers routing makes (accept), talks a little,
  hangs up and wraps up through intake, and some of its callers answer the post-call survey
  (surveys, again with an `Idempotency-Key`).

It keeps going through faults: a refused write (no connection, 503, a closed offer, a call in
another state) is fine and counted; every acknowledged write is recorded as `Ack` (what its
event is and the log position the answer named), for the oracle to find in the log. `stop()`
stops new calls, lets the callers still waiting hang up and the agents finish their calls, so
every call ends (completed or abandoned) and the projections come to rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRY_PAUSE_S = 0.1
"""A refused write waits this long before its retry (it leaves the CPU to the services)."""
WRITE_DEADLINE_S = 75.0
"""How long one write is retried through a fault before the load gives it up: longer than
intake's lock of a call whose hang-up or wrap-up was under way when intake died (60 s)."""
FINISH_DEADLINE_S = 150.0
"""How long an agent tries to finish one call: through a broker outage a hang-up or wrap-up
can take the outage's length to be answered (and the client times out and asks again)."""
POLL_S = 0.05
"""How often an agent's desktop looks for offers."""
RETRIED = frozenset({500, 502, 503, 504})
TERMINAL = frozenset({"completed", "abandoned"})


@dataclass(frozen=True, slots=True)
class Ack:
    """An acknowledged write: its event's type, the id it names, where the answer said it is."""

    type: str
    key: str
    position: str


@dataclass
class Tally:
    acks: list[Ack] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    conflicts: Counter[str] = field(default_factory=Counter)
    given_up: list[str] = field(default_factory=list)
    """Work of the agents that could not be done: a call left unfinished, an agent who could
    not sign out (a write refused for good is only counted in `refused`)."""
    server_errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Urls:
    intake: str
    routing: str
    surveys: str


class SteadyLoad:
    """Calls of `tenant` at `rate` per second, answered by `agents` agents of that tenant."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        urls: Urls,
        tenant: str,
        survey_id: str,
        *,
        agents: int = 8,
        rate: float = 20.0,
        abandon_share: float = 0.2,
        answer_share: float = 0.6,
        seed: int = 7,
    ) -> None:
        self.tally = Tally()
        self.urls = urls
        self.tenant = tenant
        self.agent_ids = [f"{tenant}-agent-{n}" for n in range(agents)]
        self._client = client
        self._survey_id = survey_id
        self._rate = rate
        self._abandon_share = abandon_share
        self._answer_share = answer_share
        self._random = random.Random(seed)
        self._no_new_calls = asyncio.Event()
        self._closing = asyncio.Event()
        self._callers: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._connected: set[str] = set()

    # -- running ------------------------------------------------------------------------------

    async def start(self) -> None:
        """The agents signed in and available, then calls begin."""
        await asyncio.gather(*(self._sign_in(agent) for agent in self.agent_ids))
        self._tasks = [asyncio.create_task(self._agent(a)) for a in self.agent_ids]
        self._tasks.append(asyncio.create_task(self._dial()))

    async def acknowledged_calls(
        self, count: int, timeout: float = 60.0, *, connected: int = 0
    ) -> None:
        """Wait until `count` more calls were acknowledged (the load is flowing), and
        `connected` more were taken by agents (routing routes)."""
        target = len(self.tally.calls) + count
        connects = self._connects() + connected
        deadline = time.monotonic() + timeout
        while len(self.tally.calls) < target or self._connects() < connects:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{count} calls, {connected} connects not acknowledged in {timeout}s: {self}"
                )
            await asyncio.sleep(0.05)

    def _connects(self) -> int:
        return sum(ack.type == "call.connected" for ack in self.tally.acks)

    async def stop(self, timeout: float = 90.0) -> Tally:
        """No new calls; waiting callers hang up; agents finish their calls; then sign out."""
        self._no_new_calls.set()
        await self._tasks[-1]
        deadline = time.monotonic() + timeout
        while self._callers and time.monotonic() < deadline:
            await asyncio.wait(set(self._callers), timeout=1.0)
        leftovers = [c for c in self.tally.calls if c not in self._connected]
        await asyncio.gather(*(self._hang_up_waiting(call) for call in leftovers))
        self._closing.set()
        await asyncio.gather(*self._tasks[:-1])
        for caller in self._callers:
            caller.cancel()
        return self.tally

    def __str__(self) -> str:
        t = self.tally
        return (
            f"{len(t.calls)} calls, {len(t.acks)} acknowledged writes, refused {dict(t.refused)},"
            f" conflicts {dict(t.conflicts)}, given up {len(t.given_up)}"
        )

    # -- the telephony and the callers --------------------------------------------------------

    async def _dial(self) -> None:
        interval = 1.0 / self._rate
        next_at = time.monotonic()
        while not self._no_new_calls.is_set():
            task = asyncio.create_task(self._caller())
            self._callers.add(task)
            task.add_done_callback(self._callers.discard)
            next_at += interval
            pause = next_at - time.monotonic()
            if pause > 0:  # the pace of the load, not a wait for the platform
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._no_new_calls.wait(), pause)
            else:
                next_at = time.monotonic()

    async def _caller(self) -> None:
        body = {
            "tenant_id": self.tenant,
            "customer_ref": f"{self.tenant}-c-{self._random.randrange(10_000)}",
            "language": "de",
            "topic": "billing",
        }
        answer = await self._write("POST", f"{self.urls.intake}/v1/calls", body, key=True)
        if answer is None or answer.status_code != 202:
            return
        call = answer.json()
        self.tally.calls.append(call["call_id"])
        self.tally.acks.append(Ack("call.received", call["call_id"], call["position"]))
        if self._random.random() < self._abandon_share:
            patience = self._random.uniform(0.5, 6.0)  # the caller's patience, not a sync wait
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._no_new_calls.wait(), patience)
            if call["call_id"] not in self._connected:
                await self._hang_up_waiting(call["call_id"])

    async def _hang_up_waiting(self, call_id: str) -> None:
        """The caller hangs up (abandoned, or ended if an agent took it meanwhile)."""
        url = f"{self.urls.intake}/v1/calls/{call_id}/hangup"
        answer = await self._write("POST", url, {"by": "caller"})
        if answer is not None and answer.status_code == 202:
            self._hung_up(call_id, answer.json())

    def _hung_up(self, call_id: str, body: dict[str, Any]) -> None:
        kind = "call.abandoned" if body["state"] == "abandoned" else "call.ended"
        self.tally.acks.append(Ack(kind, call_id, body["position"]))

    # -- the agents ---------------------------------------------------------------------------

    async def _sign_in(self, agent: str) -> None:
        profile = {
            "name": agent,
            "skills": {f"tenant:{self.tenant}": 1, "lang:de": 5, "topic:billing": 5},
        }
        answer = await self._write("PUT", f"{self.urls.routing}/v1/agents/{agent}", profile)
        assert answer is not None, f"agent {agent} not created"
        assert answer.is_success, answer.text
        await self._available(agent)

    async def _available(self, agent: str) -> None:
        url = f"{self.urls.routing}/v1/agents/{agent}/status"
        answer = await self._write("PUT", url, {"status": "available"})
        if answer is not None and answer.status_code == 200 and answer.json()["position"]:
            self.tally.acks.append(Ack("agent.status_changed", agent, answer.json()["position"]))

    async def _agent(self, agent: str) -> None:
        view_url = f"{self.urls.routing}/v1/agents/{agent}"
        closing_deadline: float | None = None
        while closing_deadline is None or time.monotonic() < closing_deadline:
            if closing_deadline is None and self._closing.is_set():
                closing_deadline = time.monotonic() + WRITE_DEADLINE_S
            try:
                view = await self._client.get(view_url)
            except httpx.TransportError as exc:
                self.tally.refused[f"agent view {type(exc).__name__}"] += 1
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            if view.status_code != 200:
                self.tally.refused[f"agent view {view.status_code}"] += 1
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            seen = view.json()
            if self._closing.is_set() and not seen["calls"] and not seen["offers"]:
                return
            busy = False
            for call_id in seen["calls"]:  # taken before a fault, or still being wrapped up
                busy = await self._finish(call_id) or busy
            if seen["offers"]:
                await self._take(seen["offers"][0])
            elif seen["status"] in ("away", "offline") and not self._closing.is_set():
                await self._available(agent)
            elif not busy:
                await asyncio.sleep(POLL_S)
        self.tally.given_up.append(f"agent {agent} signing out")

    async def _take(self, offer: dict[str, Any]) -> None:
        url = f"{self.urls.routing}/v1/offers/{offer['offer_id']}/accept"
        answer = await self._write("POST", url, None)
        if answer is None or answer.status_code != 200:
            return  # closed meanwhile (the caller hung up, it expired): the next look tells
        accepted = answer.json()
        self._connected.add(accepted["call_id"])
        self.tally.acks.append(Ack("call.connected", accepted["call_id"], accepted["position"]))
        talk = self._random.uniform(0.1, 0.3)  # the conversation itself
        await asyncio.sleep(talk)
        await self._finish(accepted["call_id"], accepted["position"])

    async def _finish(self, call_id: str, seen: str | None = None) -> bool:
        """Hang up (once intake shows the call connected), wrap up, maybe a survey answer.

        True if this did something (not only found the call finished already).
        """
        self._connected.add(call_id)
        acted = False
        state: str | None = None
        deadline = time.monotonic() + FINISH_DEADLINE_S
        while time.monotonic() < deadline:
            state = await self._state(call_id, seen)
            if state in TERMINAL:
                return acted
            acted = True
            if state == "connected":
                url = f"{self.urls.intake}/v1/calls/{call_id}/hangup"
                answer = await self._write("POST", url, {"by": "agent"})
                if answer is not None and answer.status_code == 202:
                    self._hung_up(call_id, answer.json())
                    seen = answer.json()["position"]
                else:
                    await asyncio.sleep(POLL_S)
            elif state == "wrap_up":
                url = f"{self.urls.intake}/v1/calls/{call_id}/wrap-up"
                answer = await self._write("POST", url, {"disposition": "resolved"})
                if answer is not None and answer.status_code == 202:
                    position = answer.json()["position"]
                    self.tally.acks.append(Ack("call.wrapped_up", call_id, position))
                    await self._survey_answer(call_id)
                    return True
                await asyncio.sleep(POLL_S)
            else:  # queued or offered: intake has not read the connect yet; None: refused
                await asyncio.sleep(POLL_S)
        self.tally.given_up.append(f"finishing {call_id} (intake showed it {state})")
        return True

    async def _state(self, call_id: str, min_position: str | None) -> str | None:
        params = {"min_position": min_position} if min_position else {}
        try:
            answer = await self._client.get(f"{self.urls.intake}/v1/calls/{call_id}", params=params)
        except httpx.TransportError as exc:
            self.tally.refused[f"call view {type(exc).__name__}"] += 1
            return None
        if answer.status_code != 200:
            self.tally.refused[f"call view {answer.status_code}"] += 1
            return None
        state: str = answer.json()["state"]
        return state

    async def _survey_answer(self, call_id: str) -> None:
        if self._random.random() >= self._answer_share:
            return
        url = f"{self.urls.surveys}/v1/surveys/{self._survey_id}/responses"
        body = {"call_id": call_id, "answers": {"nps": self._random.randrange(11)}}
        answer = await self._write("POST", url, body, key=True, retry_404=True)
        if answer is not None and answer.status_code == 201:
            created = answer.json()
            self.tally.acks.append(
                Ack("survey.answered", created["response_id"], created["position"])
            )

    # -- one write, retried through faults ----------------------------------------------------

    async def _write(
        self,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        *,
        key: bool = False,
        retry_404: bool = False,
    ) -> httpx.Response | None:
        """The answer, retried (same `Idempotency-Key`) while refused; None if given up."""
        headers = {"Idempotency-Key": str(uuid.uuid4())} if key else {}
        what = f"{method} {_route(url)}"
        deadline = time.monotonic() + WRITE_DEADLINE_S
        while time.monotonic() < deadline:
            try:
                answer = await self._client.request(method, url, json=body, headers=headers)
            except httpx.TransportError as exc:
                self.tally.refused[f"{what} {type(exc).__name__}"] += 1
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            if answer.status_code in RETRIED or (retry_404 and answer.status_code == 404):
                self.tally.refused[f"{what} {answer.status_code}"] += 1
                if answer.status_code in RETRIED and answer.status_code != 503:
                    self.tally.server_errors.append(f"{what} {answer.status_code} {answer.text}")
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            if answer.status_code in (404, 409):
                self.tally.conflicts[f"{what} {answer.status_code}"] += 1
            elif not answer.is_success:
                self.tally.server_errors.append(f"{what} {answer.status_code} {answer.text}")
            return answer
        self.tally.refused[f"{what} given up"] += 1  # a refusal: the load does not need it
        return None


def _route(url: str) -> str:
    """The route of a URL, ids left out (for counting refusals by kind)."""
    path = url.split("/v1/", 1)[-1].split("/")
    return "/".join(part for i, part in enumerate(path) if i % 2 == 0)
