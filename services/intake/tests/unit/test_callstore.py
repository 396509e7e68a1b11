"""Intake's call store on SQLite and PostgreSQL: the projection and the per-call guard."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from callcenter_events import Envelope, wrap
from callcenter_events.models import CallAbandoned, CallEnded, CallQueued, CallWrappedUp, HangupBy
from callcenter_events.store import make_engine
from callcenter_events.testing import call_received
from intake.callstore import CallProjection, CallStore

AT = datetime(2026, 5, 4, 12, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> Iterator[CallStore]:
    engine = make_engine(database_url)
    CallProjection().create_tables(engine)
    yield CallStore(engine)
    engine.dispose()


def _queued(call_id: str) -> Envelope:
    event = CallQueued(call_id=call_id, tenant_id="acme", priority=0, requirements={}, queued_at=AT)
    return wrap(event, source="/routing", correlation_id="c")


def _abandoned(call_id: str) -> Envelope:
    event = CallAbandoned(call_id=call_id, tenant_id="acme", by=HangupBy.CALLER, abandoned_at=AT)
    return wrap(event, source="/intake", correlation_id="c")


def test_events_build_the_call_and_a_repeat_changes_nothing(store: CallStore) -> None:
    received, queued = call_received("c-1"), _queued("c-1")
    for envelope in (received, queued, _abandoned("c-1"), received, queued):
        store.record(envelope)
    found = store.get("c-1")
    assert found is not None
    call, timeline = found
    assert call.state == "abandoned"  # a late or repeated `call.queued` never moves it back
    assert sorted(entry.type for entry in timeline) == [
        "call.abandoned",
        "call.queued",
        "call.received",
    ]


def test_of_concurrent_claims_exactly_one_wins(store: CallStore) -> None:
    store.record(call_received("c-2"))
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: store.claim("c-2", "hangup", ("queued",)), range(32)))
    assert results.count(True) == 1


def test_a_claim_needs_an_allowed_state_and_is_released_by_finish(store: CallStore) -> None:
    store.record(call_received("c-3"))
    assert not store.claim("c-3", "wrap-up", ("wrap_up",))
    assert store.claim("c-3", "hangup", ("queued",))
    store.finish("c-3", None)  # the write failed: the call is free again, state unchanged
    assert store.claim("c-3", "hangup", ("queued",))
    store.finish("c-3", _abandoned("c-3"))
    assert not store.claim("c-3", "hangup", ("queued",))
    found = store.get("c-3")
    assert found is not None
    assert found[0].state == "abandoned"


def test_after_the_conversation_ended_a_wrap_up_completes_the_call(store: CallStore) -> None:
    store.record(call_received("c-4"))
    ended = CallEnded(call_id="c-4", tenant_id="acme", by=HangupBy.AGENT, ended_at=AT)
    store.record(wrap(ended, source="/intake", correlation_id="c"))
    assert not store.claim("c-4", "hangup", ("queued", "offered", "connected"))
    assert store.claim("c-4", "wrap-up", ("wrap_up",))
    wrapped = CallWrappedUp(call_id="c-4", tenant_id="acme", disposition="ok", wrapped_up_at=AT)
    store.finish("c-4", wrap(wrapped, source="/intake", correlation_id="c"))
    found = store.get("c-4")
    assert found is not None
    assert found[0].state == "completed"
    assert [entry.type for entry in found[1]][-1] == "call.wrapped_up"
