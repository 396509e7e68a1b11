"""The routing engine: waiting calls meet available agents (pure, deterministic, no I/O).

Every method takes the time as a value, first fires the timers that are due by then (offers
that time out, heartbeats that stop, wrap-ups that run out, escalation steps), then applies
its command, then matches, and answers what happened as effects. The same inputs give the
same effects, so a simulator can drive it on a simulated clock and a test can replay it.

Order: the best waiting call goes first (priority, then the longest wait); it takes the best
agent that qualifies under its current escalation step (longest idle, or best skill). Calls of
one tenant with the same base requirements and priority form a queue whose head has waited
longest and so is the most relaxed: when the head finds no agent, no call behind it can.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from routing.domain.agent_bits import NOBODY, AgentSlots, common
from routing.domain.decisions import (
    AgentChanged,
    AgentUpdated,
    CallEnqueued,
    CallEscalated,
    CallRemoved,
    Effect,
    OfferEnded,
    OfferMade,
    PolicySet,
)
from routing.domain.escalation import active_step, next_step_at, relaxed
from routing.domain.matching import decide, meets, qualified_pool
from routing.domain.model import (
    DEFAULT_POLICY,
    Agent,
    AgentStatus,
    Offer,
    Policy,
    Presence,
    Requirements,
    WaitingCall,
)

QueueKey = tuple[str, int, frozenset[tuple[str, int]]]
Anchor = tuple[str, str]  # the rarest skill a queue's head needs, then the next rarest
Anchored = dict[QueueKey, Requirements]  # queues, each with what its head needs now
HEARTBEAT_TIMEOUT_S = 60.0
ANY_SKILL = "*"


class UnknownOfferError(LookupError):
    """No such offer is open (answered, timed out, or never made).

    `effects` holds what the timers due by then did (the offer's own timeout, say): they
    happened whether or not the answer came too late, and must be published all the same.
    """

    def __init__(self, offer_id: str, effects: list[Effect]) -> None:
        super().__init__(offer_id)
        self.effects = effects


@dataclass(frozen=True, slots=True)
class CallRequest:
    call_id: str
    tenant_id: str
    priority: int
    requirements: Requirements


@dataclass(order=True, slots=True)
class _Timer:
    """Due at `at`; timers due at the same time fire by kind, then key (deterministic)."""

    at: float
    kind: str
    key: str


class Engine:
    def __init__(self, *, heartbeat_timeout_s: float = HEARTBEAT_TIMEOUT_S) -> None:
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.agents: dict[str, Agent] = {}
        self.calls: dict[str, WaitingCall] = {}
        self.policies: dict[str, Policy] = {}
        self.offers: dict[str, Offer] = {}
        self._queues: dict[QueueKey, list[tuple[int, str]]] = {}
        self._slots = AgentSlots()  # the agent sets below are ints, an agent a bit
        self._free_by_skill: dict[str, int] = {}  # skill -> free agents who have it
        self._all_by_skill: dict[str, int] = {}  # skill -> every agent who has it
        self._timers: list[_Timer] = []
        self._attempts: dict[str, int] = {}
        self._tenant_of_call: dict[str, str] = {}
        self._agent_of_call: dict[str, str] = {}
        self._free: set[str] = set()
        # rarest skill -> next rarest skill -> the queues whose head needs both
        self._anchors: dict[str, dict[str, Anchored]] = {}
        self._anchor_of: dict[QueueKey, Anchor] = {}
        self._dirty: set[QueueKey] = set()  # queues changed since the last matching pass
        self._freed: set[str] = set()  # agents who became free since the last pass
        self._full_pass = False
        self._seq = 0
        self.now = 0.0

    # -- commands ---------------------------------------------------------------------------

    def set_policy(self, tenant_id: str, policy: Policy, now: float) -> list[Effect]:
        effects = self._advance(now)
        now = self.now  # a clock never runs backwards here
        self._set_policy(tenant_id, policy)
        for call in self.calls.values():
            if call.tenant_id == tenant_id:
                self._schedule_escalation(call)
        effects.append(PolicySet(tenant_id, policy, now))
        return effects + self._match(now)

    def _set_policy(self, tenant_id: str, policy: Policy) -> None:
        self.policies[tenant_id] = policy
        for key in list(self._queues):
            self._reanchor(key)
        self._full_pass = True

    def upsert_agent(
        self, agent_id: str, name: str, skills: Mapping[str, int], capacity: int, now: float
    ) -> list[Effect]:
        effects = self._advance(now)
        now = self.now  # a clock never runs backwards here
        self._upsert_agent(agent_id, name, skills, capacity, now)
        effects.append(AgentUpdated(agent_id, name, dict(skills), capacity, now))
        return effects + self._match(now)

    def _upsert_agent(
        self, agent_id: str, name: str, skills: Mapping[str, int], capacity: int, now: float
    ) -> None:
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = Agent(agent_id, name, dict(skills), capacity, idle_since=now, last_seen=now)
            self.agents[agent_id] = agent
        else:
            self._unindex(agent)
            self._unindex_skills(agent)
            agent.name, agent.skills, agent.capacity = name, dict(skills), capacity
        self._index_skills(agent)
        self._index(agent)

    def set_presence(self, agent_id: str, presence: Presence, now: float) -> list[Effect]:
        """The agent says available, away or offline (offers still open stay open)."""
        effects = self._advance(now)
        now = self.now  # a clock never runs backwards here
        agent = self._change_presence(agent_id, presence, now)
        self._schedule_heartbeat(agent)
        effects.append(
            AgentChanged(agent_id, agent.status, "set by the agent", now, "presence", presence)
        )
        return effects + self._match(now)

    def _change_presence(self, agent_id: str, presence: Presence, now: float) -> Agent:
        agent = self.agents[agent_id]
        self._unindex(agent)
        if presence is Presence.AVAILABLE and agent.presence is not Presence.AVAILABLE:
            agent.idle_since = now
        agent.presence = presence
        agent.last_seen = now
        self._index(agent)
        return agent

    def heartbeat(self, agent_id: str, now: float) -> list[Effect]:
        effects = self._advance(now)
        now = self.now  # a clock never runs backwards here
        agent = self.agents[agent_id]
        agent.last_seen = now
        self._schedule_heartbeat(agent)
        return effects

    def enqueue(self, request: CallRequest, now: float) -> list[Effect]:
        effects = self._advance(now)
        now = self.now  # a clock never runs backwards here
        if self.knows(request.call_id):
            return effects + self._match(now)
        call = self._add_call(request, now)
        self._schedule_escalation(call)
        effects.append(
            CallEnqueued(call.call_id, call.tenant_id, call.priority, dict(call.requirements), now)
        )
        return effects + self._match(now)

    def knows(self, call_id: str) -> bool:
        """Is the call waiting, offered, connected or in wrap-up here?"""
        return call_id in self._tenant_of_call

    def _add_call(self, request: CallRequest, now: float) -> WaitingCall:
        self._seq += 1
        call = WaitingCall(
            request.call_id,
            request.tenant_id,
            request.priority,
            dict(request.requirements),
            queued_at=now,
            seq=self._seq,
        )
        self.calls[call.call_id] = call
        self._tenant_of_call[call.call_id] = call.tenant_id
        self._enqueue(call)
        return call

    def cancel(self, call_id: str, now: float) -> list[Effect]:
        """The caller hung up while waiting (or while being offered).

        Intake calls a hang-up an abandon by its own view of the call; when routing connected
        the call a moment before intake read that, the hang-up ends the conversation instead:
        the agent goes to wrap-up as after `call.ended` (and is free at the wrap-up limit).
        """
        effects = self._advance(now)
        now = self.now  # a clock never runs backwards here
        agent = self.agents.get(self._agent_of_call.get(call_id, ""))
        if agent is not None and call_id in agent.connected:
            return effects + self.end_call(call_id, now)
        call = self._remove_call(call_id)
        if call is None:
            return effects
        effects.append(CallRemoved(call_id, call.tenant_id, "abandoned", now))
        if call.offer is not None:
            effects += self._end_offer(call.offer, "withdrawn", now)
        return effects + self._match(now)

    def _remove_call(self, call_id: str) -> WaitingCall | None:
        call = self.calls.pop(call_id, None)
        if call is not None:
            self._dequeue(call)
            self._tenant_of_call.pop(call_id, None)
            self._attempts.pop(call_id, None)
        return call

    def accept(self, offer_id: str, now: float) -> list[Effect]:
        effects = self._advance(now)
        now = self.now  # a clock never runs backwards here
        offer = self._open_offer(offer_id, effects)
        self._connect(offer)
        effects.append(OfferEnded(offer, "accepted", now))
        return effects + self._match(now)

    def _connect(self, offer: Offer) -> None:
        agent = self.agents[offer.agent_id]
        del self.offers[offer.offer_id]
        del agent.offers[offer.offer_id]
        self.calls.pop(offer.call_id, None)
        self._attempts.pop(offer.call_id, None)
        agent.connected.add(offer.call_id)
        self._agent_of_call[offer.call_id] = agent.agent_id

    def reject(self, offer_id: str, now: float) -> list[Effect]:
        """The agent declines: the call goes back to its place, never to this agent again."""
        effects = self._advance(now)
        now = self.now  # a clock never runs backwards here
        offer = self._open_offer(offer_id, effects)
        effects += self._end_offer(offer, "rejected", now)
        return effects + self._match(now)

    def end_call(self, call_id: str, now: float) -> list[Effect]:
        """The conversation ended: the agent wraps up (until submitted or the limit)."""
        effects = self._advance(now)
        now = self.now  # a clock never runs backwards here
        agent = self.agents.get(self._agent_of_call.get(call_id, ""))
        if agent is not None and call_id in agent.connected:
            self._start_wrap_up(agent, call_id, now)
            self._schedule_wrap_up(agent, call_id, now)
            effects.append(
                AgentChanged(
                    agent.agent_id,
                    agent.status,
                    "call ended",
                    now,
                    "call_ended",
                    agent.presence,
                    call_id,
                )
            )
        return effects + self._match(now)

    @staticmethod
    def _start_wrap_up(agent: Agent, call_id: str, now: float) -> None:
        agent.connected.discard(call_id)
        agent.wrapping_up[call_id] = now

    def _schedule_wrap_up(self, agent: Agent, call_id: str, started: float) -> None:
        limit = self._policy_of_call(call_id).wrap_up_limit_s
        key = f"{agent.agent_id}|{call_id}"
        heapq.heappush(self._timers, _Timer(started + limit, "wrap_up", key))

    def wrap_up(self, call_id: str, now: float) -> list[Effect]:
        effects = self._advance(now)
        now = self.now  # a clock never runs backwards here
        agent = self.agents.get(self._agent_of_call.get(call_id, ""))
        if agent is not None and call_id in agent.wrapping_up:
            effects += self._finish_wrap_up(agent, call_id, "wrap-up submitted", now)
        return effects + self._match(now)

    def advance(self, now: float) -> list[Effect]:
        """Fire what is due by `now`, then match."""
        effects = self._advance(now)
        return effects + self._match(self.now)

    def next_deadline(self) -> float | None:
        return self._timers[0].at if self._timers else None

    def waiting(self) -> Iterable[WaitingCall]:
        return (call for call in self.calls.values() if call.offer is None)

    # -- restoring from facts ----------------------------------------------------------------

    def restore(self, fact: Effect) -> None:
        """Apply one recorded effect as a fact: state changes, no decision, no timer, no match.

        Folding every effect an engine produced, in order, into a new engine gives it the same
        calls, queues, offers and agents; `resume` then sets its timers from the facts' times.
        """
        self.now = max(
            self.now, fact.time if not isinstance(fact, OfferMade) else fact.decision.time
        )
        if isinstance(fact, OfferMade):
            self._restore_offer(fact.offer)
        elif isinstance(fact, OfferEnded):
            self._restore_offer_end(fact)
        elif isinstance(fact, AgentChanged):
            self._restore_agent_change(fact)
        elif isinstance(fact, CallEnqueued):
            request = CallRequest(fact.call_id, fact.tenant_id, fact.priority, fact.requirements)
            self._add_call(request, fact.time)
        elif isinstance(fact, CallRemoved):
            self._remove_call(fact.call_id)
        elif isinstance(fact, CallEscalated):
            self._restore_escalation(fact)
        elif isinstance(fact, AgentUpdated):
            self._upsert_agent(fact.agent_id, fact.name, fact.skills, fact.capacity, fact.time)
        else:
            self._set_policy(fact.tenant_id, fact.policy)

    def resume(self, now: float) -> list[Effect]:
        """After restoring: timers from the facts' times (heartbeats start afresh), then run.

        What fell due while no engine ran (an offer that timed out, an escalation step, a
        wrap-up limit) fires now, at the time it was due.
        """
        self._timers = [
            _Timer(offer.expires_at, "offer", offer.offer_id) for offer in self.offers.values()
        ]
        heapq.heapify(self._timers)
        for agent in self.agents.values():
            agent.last_seen = max(agent.last_seen, now)
            self._schedule_heartbeat(agent)
            for call_id, started in agent.wrapping_up.items():
                self._schedule_wrap_up(agent, call_id, started)
        for call in self.calls.values():
            self._schedule_escalation(call)
        self._full_pass = True
        return self.advance(now)

    def _restore_offer(self, offer: Offer) -> None:
        call = self.calls[offer.call_id]
        attempt = int(offer.offer_id.rsplit(".", 1)[1])
        self._attempts[call.call_id] = max(attempt, self._attempts.get(call.call_id, 0))
        self._hold_offer(call, Offer(**{name: getattr(offer, name) for name in Offer.__slots__}))

    def _restore_offer_end(self, fact: OfferEnded) -> None:
        offer = self.offers.get(fact.offer.offer_id)
        if offer is None:
            return
        if fact.outcome == "accepted":
            self._connect(offer)
        else:
            self._end_offer(offer, fact.outcome, fact.time)

    def _restore_agent_change(self, fact: AgentChanged) -> None:
        agent = self.agents[fact.agent_id]
        if fact.change == "presence":
            self._change_presence(fact.agent_id, fact.presence, fact.time)
        elif fact.change == "call_ended" and fact.call_id is not None:
            self._start_wrap_up(agent, fact.call_id, fact.time)
        elif fact.call_id in agent.wrapping_up and fact.call_id is not None:
            self._finish_wrap_up(agent, fact.call_id, fact.reason, fact.time)

    def _restore_escalation(self, fact: CallEscalated) -> None:
        call = self.calls.get(fact.call_id)
        if call is None or fact.step <= call.step:
            return
        call.step = fact.step
        if call.offer is None:
            self._reanchor(self._key(call))
            self._dirty.add(self._key(call))

    # -- timers -----------------------------------------------------------------------------

    def _advance(self, now: float) -> list[Effect]:
        self.now = max(self.now, now)
        effects: list[Effect] = []
        while self._timers and self._timers[0].at <= now:
            timer = heapq.heappop(self._timers)
            effects += self._fire(timer, now)
        return effects

    def _fire(self, timer: _Timer, now: float) -> list[Effect]:
        if timer.kind == "offer":
            offer = self.offers.get(timer.key)
            return self._miss(offer, timer.at) if offer is not None else []
        if timer.kind == "heartbeat":
            return self._check_heartbeat(timer.key, timer.at)
        if timer.kind == "escalation":
            return self._escalate(timer.key, timer.at)
        agent_id, call_id = timer.key.split("|", 1)
        agent = self.agents.get(agent_id)
        if agent is not None and call_id in agent.wrapping_up:
            return self._finish_wrap_up(agent, call_id, "wrap-up limit reached", timer.at)
        return []

    def _miss(self, offer: Offer, at: float) -> list[Effect]:
        """Unanswered in time: the agent goes away, the call back to its place."""
        effects = self._end_offer(offer, "missed", at)
        agent = self.agents[offer.agent_id]
        return [*effects, self._presence_decided(agent, Presence.AWAY, "missed an offer", at)]

    def _check_heartbeat(self, agent_id: str, at: float) -> list[Effect]:
        agent = self.agents.get(agent_id)
        if agent is None or agent.presence is Presence.OFFLINE:
            return []
        if agent.last_seen + self.heartbeat_timeout_s > at:
            return []  # a newer heartbeat scheduled its own check
        effects: list[Effect] = []
        for offer in list(agent.offers.values()):
            effects += self._end_offer(offer, "withdrawn", at)
        return [*effects, self._presence_decided(agent, Presence.OFFLINE, "heartbeat lost", at)]

    def _presence_decided(
        self, agent: Agent, presence: Presence, reason: str, at: float
    ) -> AgentChanged:
        """Routing, not the agent, changes the agent's presence (idle time and heartbeat kept)."""
        self._unindex(agent)
        agent.presence = presence
        self._index(agent)
        return AgentChanged(agent.agent_id, agent.status, reason, at, "presence", presence)

    def _escalate(self, call_id: str, at: float) -> list[Effect]:
        call = self.calls.get(call_id)
        if call is None:
            return []
        steps = self._policy(call.tenant_id).escalation
        step = active_step(steps, at - call.queued_at)
        if step <= call.step:
            return []
        call.step = step
        self._schedule_escalation(call)
        if call.offer is None:
            self._reanchor(self._key(call))
            self._dirty.add(self._key(call))
        requirements = relaxed(call.requirements, steps[:step])
        return [CallEscalated(call_id, call.tenant_id, step, requirements, at)]

    def _finish_wrap_up(self, agent: Agent, call_id: str, reason: str, at: float) -> list[Effect]:
        self._unindex(agent)
        del agent.wrapping_up[call_id]
        self._tenant_of_call.pop(call_id, None)
        self._agent_of_call.pop(call_id, None)
        if not agent.wrapping_up and not agent.connected:
            agent.idle_since = at
        self._index(agent)
        return [
            AgentChanged(
                agent.agent_id, agent.status, reason, at, "wrapped_up", agent.presence, call_id
            )
        ]

    def _schedule_heartbeat(self, agent: Agent) -> None:
        if agent.presence is not Presence.OFFLINE:
            at = agent.last_seen + self.heartbeat_timeout_s
            heapq.heappush(self._timers, _Timer(at, "heartbeat", agent.agent_id))

    def _schedule_escalation(self, call: WaitingCall) -> None:
        steps = self._policy(call.tenant_id).escalation
        at = next_step_at(steps, call.queued_at, call.step)
        if at is not None:
            heapq.heappush(self._timers, _Timer(at, "escalation", call.call_id))

    # -- offers -----------------------------------------------------------------------------

    def _open_offer(self, offer_id: str, effects: list[Effect]) -> Offer:
        offer = self.offers.get(offer_id)
        if offer is None:
            raise UnknownOfferError(offer_id, effects + self._match(self.now))
        return offer

    def _end_offer(self, offer: Offer, outcome: str, at: float) -> list[Effect]:
        """Close an open offer that was not accepted; a waiting call goes back to its place."""
        self.offers.pop(offer.offer_id, None)
        agent = self.agents[offer.agent_id]
        self._unindex(agent)
        agent.offers.pop(offer.offer_id, None)
        self._index(agent)
        call = self.calls.get(offer.call_id)
        if call is not None:
            call.offer = None
            if outcome == "rejected":
                call.declined_by.add(offer.agent_id)
            self._enqueue(call)
        return [OfferEnded(offer, outcome, at)]  # type: ignore[arg-type]

    # -- matching ---------------------------------------------------------------------------

    def _match(self, now: float) -> list[Effect]:
        """Offer calls, best first, while some queue's head finds an agent."""
        effects: list[Effect] = []
        keys = self._candidate_queues()
        if not self._free:
            return effects  # nobody can take a call: nothing to try
        queues = ((key, self._queues.get(key)) for key in keys)
        heads = [(self._rank(queue[0]), key, 0) for key, queue in queues if queue]
        heapq.heapify(heads)
        while heads:
            _rank, key, index = heapq.heappop(heads)
            queue = self._queues.get(key, [])
            if index >= len(queue):
                continue
            call = self.calls[queue[index][1]]
            outcome = self._offer(call, now)
            if isinstance(outcome, OfferMade):
                effects.append(outcome)
                if not self._free:
                    break
                queue = self._queues.get(key, [])
                if index < len(queue):
                    heapq.heappush(heads, (self._rank(queue[index]), key, index))
            elif outcome == "declined_only" and index + 1 < len(queue):
                heapq.heappush(heads, (self._rank(queue[index + 1]), key, index + 1))
        return effects

    def _candidate_queues(self) -> set[QueueKey] | list[QueueKey]:
        """The queues a match may have become possible in since the last pass.

        After every pass no queue's head can be matched. Only three things change that: a
        queue changed (a call arrived, came back, or escalated), an agent became free (then
        only the queues whose head the agent meets can use it), or a policy changed (then
        every queue).
        """
        dirty, freed, full = self._dirty, self._freed, self._full_pass
        self._dirty, self._freed, self._full_pass = set(), set(), False
        if full:
            return list(self._queues)
        keys = set(dirty) | self._anchors.get(ANY_SKILL, {}).get(ANY_SKILL, {}).keys()
        for agent_id in freed:
            agent = self.agents[agent_id]
            for anchored in self._anchored_on(agent.skills):
                for key, needs in anchored.items():
                    if meets(agent, needs) and key not in keys:
                        keys.add(key)  # the head would take this agent (or it declined)
        return keys

    def _anchored_on(self, skills: Mapping[str, int]) -> Iterable[Anchored]:
        """The queues filed under two of `skills`, or under one of them and ANY_SKILL.

        Every queue whose head an agent with `skills` meets is among them: a few, where filing
        under the rarest skill alone would give hundreds.
        """
        for first in skills:
            by_second = self._anchors.get(first)
            if by_second:
                for second in by_second.keys() & skills.keys():
                    yield by_second[second]
                if ANY_SKILL in by_second:
                    yield by_second[ANY_SKILL]

    def _rank(self, entry: tuple[int, str]) -> tuple[int, float, int]:
        call = self.calls[entry[1]]
        return (-call.priority, call.queued_at, call.seq)

    def _offer(self, call: WaitingCall, now: float) -> OfferMade | str:
        policy = self._policy(call.tenant_id)
        requirements = relaxed(call.requirements, policy.escalation[: call.step])
        pool = qualified_pool(requirements, self._free_by_skill, self.agents, self._slots)
        eligible = [agent for agent in pool if agent.agent_id not in call.declined_by]
        if not eligible:
            return "declined_only" if pool else "blocked"
        attempt = self._attempts.get(call.call_id, 0) + 1
        self._attempts[call.call_id] = attempt
        offer_id = f"{call.call_id}.{attempt}"
        explain = self._explain_pool(requirements)
        decision = decide(
            call, requirements, eligible, policy.selection, offer_id, now, explain, self.agents
        )
        expires_at = now + policy.offer_timeout_s
        offer = Offer(offer_id, call.call_id, call.tenant_id, decision.agent_id, now, expires_at)
        self._hold_offer(call, offer)
        heapq.heappush(self._timers, _Timer(offer.expires_at, "offer", offer_id))
        return OfferMade(decision, offer)

    def _hold_offer(self, call: WaitingCall, offer: Offer) -> None:
        agent = self.agents[offer.agent_id]
        self._unindex(agent)
        agent.offers[offer.offer_id] = offer
        self._index(agent)
        self.offers[offer.offer_id] = offer
        call.offer = offer
        self._dequeue(call)

    def _explain_pool(self, requirements: Requirements) -> list[str]:
        """Agents who have every required skill at some level (the ones worth explaining)."""
        if not requirements:
            return list(self.agents)
        return self._slots.ids(
            common(self._all_by_skill.get(skill, NOBODY) for skill in requirements)
        )

    # -- queues and indexes -----------------------------------------------------------------

    def _key(self, call: WaitingCall) -> QueueKey:
        return (call.tenant_id, call.priority, frozenset(call.requirements.items()))

    def _enqueue(self, call: WaitingCall) -> None:
        key = self._key(call)
        queue = self._queues.setdefault(key, [])
        entry = (call.seq, call.call_id)
        position = bisect.bisect_left(queue, entry)
        if position == len(queue) or queue[position] != entry:
            queue.insert(position, entry)
        if position == 0:
            self._reanchor(key)
        self._dirty.add(key)

    def _dequeue(self, call: WaitingCall) -> None:
        key = self._key(call)
        queue = self._queues.get(key)
        if queue is None:
            return
        position = bisect.bisect_left(queue, (call.seq, call.call_id))
        if position < len(queue) and queue[position] == (call.seq, call.call_id):
            del queue[position]
        if not queue:
            del self._queues[key]
            self._unanchor(key)
        elif position == 0:
            self._reanchor(key)

    def _reanchor(self, key: QueueKey) -> None:
        """File the queue under the two rarest skills its head needs now (its agents have both)."""
        self._unanchor(key)
        queue = self._queues.get(key)
        if not queue:
            return
        head = self.calls[queue[0][1]]
        needs = relaxed(head.requirements, self._policy(head.tenant_id).escalation[: head.step])
        first, second = anchor = self._rarest_two(needs)
        self._anchor_of[key] = anchor
        self._anchors.setdefault(first, {}).setdefault(second, {})[key] = needs

    def _rarest_two(self, needs: Requirements) -> Anchor:
        """The two skills in `needs` the fewest agents have (ties: by name); ANY_SKILL if fewer."""
        rarest = sorted(needs, key=lambda skill: (self._skill_count(skill), skill))
        rarest += [ANY_SKILL, ANY_SKILL]
        return rarest[0], rarest[1]

    def _skill_count(self, skill: str) -> int:
        return self._all_by_skill.get(skill, NOBODY).bit_count()

    def _unanchor(self, key: QueueKey) -> None:
        anchor = self._anchor_of.pop(key, None)
        if anchor is not None:
            first, second = anchor
            by_second = self._anchors[first]
            anchored = by_second[second]
            del anchored[key]
            if not anchored:
                del by_second[second]
            if not by_second:
                del self._anchors[first]

    def _index(self, agent: Agent) -> None:
        """File the agent as free, under each of its skills, if it can take a call now."""
        if agent.can_take_more():
            self._freed.add(agent.agent_id)
            self._free.add(agent.agent_id)
            bit = self._slots.bit(agent.agent_id)
            for skill in agent.skills:
                self._free_by_skill[skill] = self._free_by_skill.get(skill, NOBODY) | bit

    def _unindex(self, agent: Agent) -> None:
        """No longer free (before a change that may keep it from taking calls)."""
        if agent.agent_id in self._free:
            self._free.remove(agent.agent_id)
            bit = self._slots.bit(agent.agent_id)
            for skill in agent.skills:
                self._free_by_skill[skill] &= ~bit

    def _index_skills(self, agent: Agent) -> None:
        """File the agent under each of its skills, free or not (the ones a decision explains)."""
        bit = self._slots.bit(agent.agent_id)
        for skill in agent.skills:
            self._all_by_skill[skill] = self._all_by_skill.get(skill, NOBODY) | bit

    def _unindex_skills(self, agent: Agent) -> None:
        """Before its skills change."""
        bit = self._slots.bit(agent.agent_id)
        for skill in agent.skills:
            self._all_by_skill[skill] &= ~bit

    def _policy(self, tenant_id: str) -> Policy:
        return self.policies.get(tenant_id, DEFAULT_POLICY)

    def _policy_of_call(self, call_id: str) -> Policy:
        tenant = self._tenant_of_call.get(call_id)
        return self._policy(tenant) if tenant else DEFAULT_POLICY

    def available_agents(self, requirements: Requirements) -> int:
        """How many agents are free right now and meet `requirements`."""
        return len(qualified_pool(requirements, self._free_by_skill, self.agents, self._slots))

    def status_of(self, agent_id: str) -> AgentStatus:
        return self.agents[agent_id].status
