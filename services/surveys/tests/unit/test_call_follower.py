from callcenter_events.bus import InMemoryBus
from callcenter_events.testing import call_received
from callcenter_events.topics import CALLS
from surveys.handlers import CallFollower


async def test_call_events_are_followed_once_each() -> None:
    bus = InMemoryBus()
    first = call_received("c-1")
    await bus.publish(first)
    await bus.publish(first)  # a duplicate delivery of the same event
    await bus.publish(call_received("c-2"))
    follower = CallFollower()
    await bus.deliver(follower.handle, group="surveys", topics=[CALLS.name()], reader=None)
    assert follower.seen == {"call.received": 2}
