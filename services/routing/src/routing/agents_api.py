"""Agents (the call center's staff): profiles, presence, heartbeats, and their offers.

Agents serve many tenants, so these paths are the operator's (the agents' desktop software
calls them with the operator's credentials); tenants see their queues and decisions.
"""

from __future__ import annotations

import base64
from typing import Annotated

from callcenter_service import Operator, ProblemError
from callcenter_service.fields import Identifier
from callcenter_service.problems import COMMON_PROBLEMS, problem_responses
from fastapi import APIRouter, Path, Query, Request, Response

from routing.commands import core_of, position_of, run, serving_core
from routing.domain import decisions as fx
from routing.domain.engine import Engine, UnknownOfferError
from routing.domain.model import Agent, Presence
from routing.facts import moment
from routing.schemas import (
    AgentPage,
    AgentProfile,
    AgentView,
    AgentWritten,
    OfferAnswered,
    OfferView,
    StatusChange,
    StatusWritten,
)

router = APIRouter(prefix="/v1", tags=["agents"], responses=COMMON_PROBLEMS)
AgentId = Annotated[Identifier, Path(description="The agent's id, chosen by the operator")]


@router.put(
    "/agents/{agent_id}", response_model=AgentWritten, responses={201: {"model": AgentWritten}}
)
async def put_agent(
    agent_id: AgentId, body: AgentProfile, request: Request, response: Response, _caller: Operator
) -> AgentWritten:
    """Create or change an agent's profile (201 when new); status stays as it was."""
    known = agent_id in serving_core(request).engine.agents
    recorded = await run(
        request,
        lambda engine, now: engine.upsert_agent(
            agent_id, body.name, body.skills, body.capacity, now
        ),
    )
    response.status_code = 200 if known else 201
    position = position_of(recorded, lambda e: isinstance(e, fx.AgentUpdated))
    return AgentWritten(agent_id=agent_id, position=str(position))


@router.put("/agents/{agent_id}/status", response_model=StatusWritten)
async def put_status(
    agent_id: AgentId, body: StatusChange, request: Request, _caller: Operator
) -> StatusWritten:
    """The agent says available, away or offline; also counts as a heartbeat."""
    _agent(request, agent_id)
    presence = Presence(body.status)
    recorded = await run(request, lambda engine, now: engine.set_presence(agent_id, presence, now))
    position = position_of(
        recorded, lambda e: isinstance(e, fx.AgentChanged) and e.agent_id == agent_id
    )
    return StatusWritten(
        agent_id=agent_id, status=_agent(request, agent_id).status, position=position
    )


@router.post("/agents/{agent_id}/heartbeat", response_model=StatusWritten)
async def heartbeat(agent_id: AgentId, request: Request, _caller: Operator) -> StatusWritten:
    """The agent's desktop is still there; without one for the heartbeat timeout: offline."""
    _agent(request, agent_id)
    await run(request, lambda engine, now: engine.heartbeat(agent_id, now))
    return StatusWritten(agent_id=agent_id, status=_agent(request, agent_id).status)


@router.get("/agents/{agent_id}", response_model=AgentView)
async def get_agent(agent_id: AgentId, request: Request, _caller: Operator) -> AgentView:
    """The agent now: status, skills, open offers (with their deadline), calls."""
    return _view(_agent(request, agent_id))


@router.get("/agents", response_model=AgentPage)
async def list_agents(
    request: Request,
    _caller: Operator,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AgentPage:
    """All agents by id, a page at a time."""
    after = _decode_cursor(cursor)
    agents = serving_core(request).engine.agents
    ids = sorted(agent_id for agent_id in agents if after is None or agent_id > after)
    page = ids[:limit]
    more = len(ids) > limit
    next_cursor = base64.urlsafe_b64encode(page[-1].encode()).decode() if more else None
    return AgentPage(agents=[_view(agents[a]) for a in page], next_cursor=next_cursor)


@router.post(
    "/offers/{offer_id}/accept", response_model=OfferAnswered, responses=problem_responses(409)
)
async def accept(offer_id: str, request: Request, _caller: Operator) -> OfferAnswered:
    """The agent takes the call: it is connected."""
    return await _answer(request, offer_id, accepted=True)


@router.post(
    "/offers/{offer_id}/reject", response_model=OfferAnswered, responses=problem_responses(409)
)
async def reject(offer_id: str, request: Request, _caller: Operator) -> OfferAnswered:
    """The agent declines: the call goes back to its place, and never to this agent again."""
    return await _answer(request, offer_id, accepted=False)


async def _answer(request: Request, offer_id: str, *, accepted: bool) -> OfferAnswered:
    def answer(engine: Engine, now: float) -> list[fx.Effect]:
        return engine.accept(offer_id, now) if accepted else engine.reject(offer_id, now)

    try:
        recorded = await run(request, answer)
    except UnknownOfferError:
        closed = core_of(request).closed_offers.get(offer_id)
        if closed is None:
            raise ProblemError(404, f"No offer {offer_id!r}.") from None
        raise ProblemError(409, f"The offer is closed: it was {closed}.") from None
    ended = [
        e for e, _p in recorded if isinstance(e, fx.OfferEnded) and e.offer.offer_id == offer_id
    ]
    position = position_of(recorded, lambda e: e is ended[0])
    return OfferAnswered(offer_id=offer_id, call_id=ended[0].offer.call_id, position=str(position))


def _agent(request: Request, agent_id: str) -> Agent:
    agent = serving_core(request).engine.agents.get(agent_id)
    if agent is None:
        raise ProblemError(404, f"No agent {agent_id!r}; create it with PUT first.")
    return agent


def _view(agent: Agent) -> AgentView:
    free = not agent.load and agent.presence is Presence.AVAILABLE
    return AgentView(
        agent_id=agent.agent_id,
        name=agent.name,
        status=agent.status,
        skills=dict(agent.skills),
        capacity=agent.capacity,
        idle_since=moment(agent.idle_since) if free else None,
        offers=[
            OfferView(
                offer_id=o.offer_id,
                call_id=o.call_id,
                tenant_id=o.tenant_id,
                expires_at=moment(o.expires_at),
            )
            for o in sorted(agent.offers.values(), key=lambda o: o.made_at)
        ],
        calls=sorted(agent.connected) + sorted(agent.wrapping_up),
    )


def _decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise ProblemError(400, "`cursor` is not one this API handed out.") from None
