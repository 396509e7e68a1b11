from __future__ import annotations

from datetime import UTC, datetime

from callcenter_events import wrap
from callcenter_events.bus import InMemoryBus
from callcenter_events.models import CallQueued, CallReceived
from callcenter_events.reading import Reader
from callcenter_events.testing import sealed
from callcenter_events.topics import CALLS, ROUTING
from routing.handlers import TYPES, RoutingHandlers


def _received(call_id: str) -> CallReceived:
    return CallReceived(
        call_id=call_id,
        tenant_id="acme",
        customer_ref=sealed("cust-1", "customer_ref")[0],
        language="de",
        topic="billing",
        priority=4,
        required_skills={"vip": 2},
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


async def test_a_received_call_is_queued_with_requirements_and_causation() -> None:
    bus = InMemoryBus()
    received = wrap(_received("c-1"), source="/intake", correlation_id="corr-1")
    await bus.publish(received)
    handlers = RoutingHandlers(bus)
    await bus.deliver(
        handlers.handle, group="routing", topics=[CALLS.name()], reader=Reader(types=TYPES)
    )
    [queued] = bus.envelopes(ROUTING.name())
    assert isinstance(queued.data, CallQueued)
    assert queued.data.priority == 4
    assert queued.data.requirements == {
        "tenant:acme": 1,
        "lang:de": 1,
        "topic:billing": 1,
        "vip": 2,
    }
    assert (queued.causation_id, queued.correlation_id) == (received.id, "corr-1")


async def test_redelivery_after_a_crash_emits_the_same_event_id() -> None:
    received = wrap(_received("c-2"), source="/intake", correlation_id="corr-2")
    ids = []
    for _ in range(2):  # two process lives, each delivered the same record
        bus = InMemoryBus()
        await bus.publish(received)
        await bus.deliver(
            RoutingHandlers(bus).handle, group="routing", topics=[CALLS.name()], reader=None
        )
        ids.append(bus.envelopes(ROUTING.name())[0].id)
    assert ids[0] == ids[1]
