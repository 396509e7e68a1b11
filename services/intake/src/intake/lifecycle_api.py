"""A call's life after intake heard of it: hang up, wrap up, and read it back.

State-changing requests are serialised per call in intake's database: of several concurrent
conflicting requests exactly one writes its event; the others get 409.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Annotated

import orjson
from callcenter_events import Event, Position, utc_now, wrap
from callcenter_events.models import CallAbandoned, CallEnded, CallWrappedUp
from callcenter_events.privacy import Vault
from callcenter_events.store import as_utc, in_db_thread
from callcenter_service import CallsReader, CallsWriter, Principal, ProblemError
from callcenter_service.correlation import current_correlation_id
from callcenter_service.problems import COMMON_PROBLEMS, problem_responses
from callcenter_service.writes import ensure_ready
from fastapi import APIRouter, Query, Request

from intake.callstore import CallStore, IntakeCall, TimelineEntry, page_of_calls
from intake.publishing import SOURCE
from intake.schemas import CallPage, CallView, Hangup, TimelineItem, Transition, WrapUp

router = APIRouter(
    prefix="/v1/calls", tags=["calls"], responses=COMMON_PROBLEMS | problem_responses(409)
)
HANGUP_FROM = ("queued", "offered", "connected")
CATCH_UP_S = 2.0
WRAP_UP_FROM = ("wrap_up",)


@router.post("/{call_id}/hangup", status_code=202, response_model=Transition)
async def hang_up(call_id: str, body: Hangup, request: Request, caller: CallsWriter) -> Transition:
    """Before connect the call is abandoned; after connect the conversation ends."""
    ensure_ready(request)
    call, _timeline = await _visible(request, caller, call_id)
    if body.outcome is not None and call.direction != "outbound":
        raise ProblemError(422, "`outcome` is only for outbound calls.")

    def event_for(state: str) -> Event:
        now = utc_now()
        if state == "connected":
            return CallEnded(
                call_id=call_id,
                tenant_id=call.tenant_id,
                by=body.by,
                outcome=body.outcome,
                ended_at=now,
            )
        return CallAbandoned(
            call_id=call_id,
            tenant_id=call.tenant_id,
            by=body.by,
            outcome=body.outcome,
            abandoned_at=now,
        )

    return await _transition(request, call, "hangup", HANGUP_FROM, event_for)


@router.post("/{call_id}/wrap-up", status_code=202, response_model=Transition)
async def wrap_up(call_id: str, body: WrapUp, request: Request, caller: CallsWriter) -> Transition:
    """The agent's disposition and notes, once the conversation has ended."""
    ensure_ready(request)
    call, _timeline = await _visible(request, caller, call_id)

    notes = await _sealed_notes(request, call, body.notes)

    def event_for(_state: str) -> Event:
        return CallWrappedUp(
            call_id=call_id,
            tenant_id=call.tenant_id,
            disposition=body.disposition,
            notes=notes,
            wrapped_up_at=utc_now(),
        )

    return await _transition(request, call, "wrap-up", WRAP_UP_FROM, event_for)


async def _sealed_notes(request: Request, call: IntakeCall, notes: str | None) -> str | None:
    """Notes are about the caller: sealed under the call's subject (dropped if it is erased)."""
    if notes is None:
        return None
    if call.data_subject is None:
        raise ProblemError(
            409, "This call was recorded without a data subject; notes cannot be kept."
        )
    vault: Vault = request.app.state.vault
    return await vault.seal_value(call.data_subject, "notes", notes)


MinPosition = Annotated[
    str | None, Query(description="Wait (up to 5 s) until the write at this position shows")
]


@router.get("/{call_id}", response_model=CallView)
async def get_call(
    call_id: str, request: Request, caller: CallsReader, min_position: MinPosition = None
) -> CallView:
    """The call's state and timeline."""
    await request.app.state.call_projection.wait_for(min_position)
    return await _view(request, *await _visible(request, caller, call_id))


@router.get("", response_model=CallPage)
async def list_calls(
    request: Request,
    caller: CallsReader,
    state: str | None = None,
    topic: str | None = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
    tenant_id: str | None = None,
    min_position: MinPosition = None,
) -> CallPage:
    """Newest first, `limit` at a time; follow `next_cursor` for the next page."""
    await request.app.state.call_projection.wait_for(min_position)
    if caller.tenant_id is not None and tenant_id not in (None, caller.tenant_id):
        raise ProblemError(404, f"No tenant {tenant_id!r}.")
    store: CallStore = request.app.state.calls
    page = partial(
        page_of_calls,
        store.engine,
        tenant_id=caller.tenant_id or tenant_id,
        state=state,
        topic=topic,
        start=from_,
        end=to,
        limit=limit,
        after=_decode_cursor(cursor),
    )
    calls = await in_db_thread(store.engine, page)
    views = [await _view(request, call, []) for call in calls]
    last = calls[-1] if len(calls) == limit else None
    return CallPage(calls=views, next_cursor=_encode_cursor(last) if last else None)


async def _visible(
    request: Request, caller: Principal, call_id: str
) -> tuple[IntakeCall, list[TimelineEntry]]:
    """The call and its timeline, if the caller may see it; 404 alike for unknown and foreign."""
    store: CallStore = request.app.state.calls
    found = await in_db_thread(store.engine, store.get, call_id)
    if found is None and await request.app.state.call_projection.catch_up(CATCH_UP_S):
        found = await in_db_thread(store.engine, store.get, call_id)  # a call reported a moment ago
    if found is None or not caller.sees(found[0].tenant_id):
        raise ProblemError(404, f"No call {call_id!r}.")
    return found


async def _transition(
    request: Request,
    call: IntakeCall,
    command: str,
    allowed: tuple[str, ...],
    event_for: Callable[[str], Event],
) -> Transition:
    store: CallStore = request.app.state.calls
    if not await in_db_thread(store.engine, store.claim, call.call_id, command, allowed):
        raise ProblemError(
            409,
            f"Cannot {command} call {call.call_id!r} in state {call.state!r} "
            f"(or another change of it is under way).",
            code="illegal_transition",
        )
    envelope = None
    try:
        fresh = await in_db_thread(store.engine, store.get, call.call_id)
        assert fresh is not None
        event = event_for(fresh[0].state)
        envelope = wrap(event, source=SOURCE, correlation_id=current_correlation_id())
        position: Position = await request.app.state.producer.publish(envelope)
    except BaseException:
        await in_db_thread(store.engine, store.finish, call.call_id, None)
        raise
    await in_db_thread(store.engine, store.finish, call.call_id, envelope)
    state = {"call.abandoned": "abandoned", "call.ended": "wrap_up"}.get(envelope.type, "completed")
    return Transition(call_id=call.call_id, state=state, position=str(position))


async def _view(request: Request, call: IntakeCall, timeline: list[TimelineEntry]) -> CallView:
    """The call as the API shows it: personal values opened (null once the person is erased)."""
    vault: Vault = request.app.state.vault
    items = [TimelineItem(type=entry.type, time=as_utc(entry.time)) for entry in timeline]
    fields = call.model_dump() | {
        "received_at": as_utc(call.received_at),
        "timeline": items,
        "caller_phone": await vault.reveal(call.caller_phone, "caller_phone"),
        "customer_ref": await vault.reveal(call.customer_ref, "customer_ref"),
    }
    return CallView.model_validate(fields)


def _encode_cursor(call: IntakeCall) -> str:
    raw = orjson.dumps([call.received_at.isoformat(), call.call_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        moment, call_id = orjson.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(moment), str(call_id)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise ProblemError(400, "`cursor` is not one this API gave out.") from None
