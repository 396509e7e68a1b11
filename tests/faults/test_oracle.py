"""The oracle's checks can fail: each is shown a log or an answer that is wrong in one way.

(The scenarios show that they pass on the running platform; these show that they would not
pass a platform that lost a write, counted an effect twice, showed a call in a state its
events do not explain, or reported other totals than the log's.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from callcenter_events import Envelope, Position, wrap
from callcenter_events.models import CallAbandoned, CallConnected, CallEnded, CallWrappedUp
from callcenter_events.models.calls import CallReceived
from callcenter_testkit.load import Ack
from callcenter_testkit.oracle import (
    Log,
    agree,
    call_figures,
    effects_twice,
    missing,
    truths_of,
)

pytestmark = [pytest.mark.faults]

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
TENANT = "acme"


def _at(event: Any, offset: int, topic: str = "calls", event_id: str | None = None) -> Envelope:
    envelope = wrap(event, source="/test", correlation_id="c", event_id=event_id)
    return envelope.at(Position(topic, 0, offset))


def _received(call_id: str, offset: int, seconds: float = 0) -> Envelope:
    event = CallReceived(
        call_id=call_id,
        tenant_id=TENANT,
        language="de",
        topic="billing",
        received_at=T0 + timedelta(seconds=seconds),
    )
    return _at(event, offset)


def _connected(call_id: str, offset: int, seconds: float) -> Envelope:
    at = T0 + timedelta(seconds=seconds)
    event = CallConnected(
        offer_id=f"{call_id}.1",
        call_id=call_id,
        tenant_id=TENANT,
        agent_id="ada",
        offered_at=at,
        expires_at=at + timedelta(seconds=15),
        closed_at=at,
    )
    return _at(event, offset, "routing")


def _ended(call_id: str, offset: int, seconds: float) -> Envelope:
    at = T0 + timedelta(seconds=seconds)
    return _at(CallEnded(call_id=call_id, tenant_id=TENANT, by="agent", ended_at=at), offset)


def _wrapped(call_id: str, offset: int, seconds: float) -> Envelope:
    at = T0 + timedelta(seconds=seconds)
    event = CallWrappedUp(call_id=call_id, tenant_id=TENANT, disposition="ok", wrapped_up_at=at)
    return _at(event, offset)


def _abandoned(call_id: str, offset: int, seconds: float) -> Envelope:
    at = T0 + timedelta(seconds=seconds)
    return _at(
        CallAbandoned(call_id=call_id, tenant_id=TENANT, by="caller", abandoned_at=at), offset
    )


def _log(*events: Envelope) -> Log:
    return Log(events=list(events), at={str(e.position): e for e in events}, records=len(events))


def test_a_lost_write_and_a_write_elsewhere_are_found() -> None:
    log = _log(_received("c1", 0), _received("c2", 1))
    acks = [Ack("call.received", "c1", "calls:0:0"), Ack("call.received", "c2", "calls:0:1")]
    assert missing(log, acks) == []
    lost = Ack("call.received", "c3", "calls:0:2")
    elsewhere = Ack("call.received", "c1", "calls:0:1")
    wrong_type = Ack("call.abandoned", "c1", "calls:0:0")
    assert missing(log, [*acks, lost, elsewhere, wrong_type]) == [lost, elsewhere, wrong_type]


def test_an_effect_in_the_log_twice_is_found() -> None:
    once = [_received("c1", 0), _connected("c1", 1, 3), _ended("c1", 2, 9)]
    assert effects_twice(truths_of(once, TENANT), []) == []
    twice = [*once, _connected("c1", 3, 4)]
    ended_and_abandoned = [*once, _abandoned("c1", 4, 10)]
    assert effects_twice(truths_of(twice, TENANT), []) != []
    assert effects_twice(truths_of(ended_and_abandoned, TENANT), []) != []
    never_received = [_connected("c9", 0, 3)]
    assert effects_twice(truths_of(never_received, TENANT), []) != []


def test_each_call_state_follows_from_its_events() -> None:
    events = [
        _received("waiting", 0),
        _received("talking", 1),
        _connected("talking", 2, 3),
        _received("done", 3),
        _connected("done", 4, 2),
        _ended("done", 5, 30),
        _wrapped("done", 6, 40),
        _received("gone", 7),
        _abandoned("gone", 8, 2),
    ]
    states = {c.call_id: c.state for c in truths_of(events, TENANT).values()}
    assert states == {
        "waiting": "queued",
        "talking": "connected",
        "done": "completed",
        "gone": "abandoned",
    }


def test_the_call_figures_follow_the_formulas() -> None:
    events = [
        _received("fast", 0),
        _connected("fast", 1, 10),
        _ended("fast", 2, 70),
        _wrapped("fast", 3, 80),
        _received("slow", 4),
        _connected("slow", 5, 30),
        _received("short", 6),
        _abandoned("short", 7, 4),
        _received("long", 8),
        _abandoned("long", 9, 6),
    ]
    figures = call_figures(truths_of(events, TENANT).values())
    assert figures == {
        "offered": 4,
        "answered": 2,
        "abandoned": 2,
        "short_abandoned": 1,
        "answered_within_threshold": 1,
        "completed": 1,
        "outbound_calls": 0,
        "asa_s": 20.0,
        "aht_s": 70.0,
    }


async def test_a_service_that_shows_other_figures_fails_with_the_differences() -> None:
    async def shown() -> dict[str, int]:
        return {"offered": 4, "answered": 3}

    await agree("same", shown, {"offered": 4, "answered": 3}, timeout=1)
    with pytest.raises(AssertionError, match="answered: log 2, shown 3"):
        await agree("figures", shown, {"offered": 4, "answered": 2}, timeout=1)
