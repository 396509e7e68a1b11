"""What routing knows now (the queues) and what it decided (why this agent)."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

import orjson
from callcenter_events.store import as_utc, in_db_thread
from callcenter_service import CallsReader, ProblemError
from callcenter_service.problems import COMMON_PROBLEMS
from callcenter_service.projection import ProjectionRunner
from fastapi import APIRouter, Query, Request

from routing.commands import serving_core
from routing.core import wall_clock
from routing.decision_store import routing_of
from routing.domain.engine import Engine
from routing.domain.model import WaitingCall
from routing.schemas import CallRouting, DecisionView, Queues, QueueView

router = APIRouter(prefix="/v1", tags=["queues"], responses=COMMON_PROBLEMS)
QueueKey = tuple[str, str | None, str | None]


@router.get("/queues", response_model=Queues)
async def queues(
    request: Request,
    caller: CallsReader,
    tenant_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Queues:
    """Waiting calls by tenant, topic and language; a tenant's key sees its own queues."""
    if caller.tenant_id is not None:
        if tenant_id not in (None, caller.tenant_id):
            raise ProblemError(404, f"No tenant {tenant_id!r}.")
        tenant_id = caller.tenant_id
    engine = serving_core(request).engine
    grouped: defaultdict[QueueKey, list[WaitingCall]] = defaultdict(list)
    for call in engine.calls.values():
        if tenant_id is None or call.tenant_id == tenant_id:
            grouped[_queue_of(call)].append(call)
    now = max(engine.now, wall_clock())
    views = [_view(engine, key, calls, now) for key, calls in sorted(grouped.items(), key=str)]
    return Queues(queues=views)


def _queue_of(call: WaitingCall) -> QueueKey:
    topic = next((s[6:] for s in call.requirements if s.startswith("topic:")), None)
    language = next((s[5:] for s in call.requirements if s.startswith("lang:")), None)
    return (call.tenant_id, topic, language)


def _view(engine: Engine, key: QueueKey, calls: list[WaitingCall], now: float) -> QueueView:
    tenant_id, topic, language = key
    needs = {f"tenant:{tenant_id}": 1}
    if topic is not None:
        needs[f"topic:{topic}"] = 1
    if language is not None:
        needs[f"lang:{language}"] = 1
    return QueueView(
        tenant_id=tenant_id,
        topic=topic,
        language=language,
        waiting=len(calls),
        offered=sum(1 for call in calls if call.offer is not None),
        longest_wait_s=round(max(now - min(call.queued_at for call in calls), 0.0), 3),
        agents_available=engine.available_agents(needs),
    )


@router.get("/calls/{call_id}/routing", response_model=CallRouting)
async def call_routing(
    call_id: str,
    request: Request,
    caller: CallsReader,
    min_position: Annotated[
        str | None, Query(description="Wait (up to 5 s) for this write")
    ] = None,
) -> CallRouting:
    """Why this agent: every decision made for the call, with candidates, scores, step."""
    decisions: ProjectionRunner = request.app.state.decisions
    await decisions.wait_for(min_position)
    call, recorded = await in_db_thread(
        decisions.store.engine, routing_of, decisions.store.engine, call_id
    )
    if call is None or caller.tenant_id not in (None, call.tenant_id):
        raise ProblemError(404, f"No call {call_id!r}.")
    return CallRouting(
        call_id=call.call_id,
        tenant_id=call.tenant_id,
        queued_at=as_utc(call.queued_at),
        decisions=[
            DecisionView(
                time=as_utc(row.offered_at),
                offer_id=row.offer_id,
                agent_id=row.agent_id,
                step=row.step,
                outcome=row.outcome,
                closed_at=as_utc(row.closed_at) if row.closed_at else None,
                **orjson.loads(row.record),
            )
            for row in recorded
        ],
    )
