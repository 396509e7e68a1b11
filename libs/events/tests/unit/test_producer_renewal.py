"""A producer whose idempotent state broke is replaced: the service writes again afterwards.

The fault suite found intake answering 500 to every write for good after a long broker outage:
aiokafka's idempotent producer failed each send with OutOfOrderSequenceNumber from then on.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from aiokafka.errors import OutOfOrderSequenceNumber
from callcenter_events import producer as producing
from callcenter_events.producer import EventProducer
from callcenter_events.testing import call_received


class Metadata:
    topic = "callcenter.calls.v1"
    partition = 0
    offset = 7


class FakeKafkaProducer:
    """Its first instance fails every send as a broken idempotent producer does."""

    made: ClassVar[list[FakeKafkaProducer]] = []

    def __init__(self, **_options: Any) -> None:
        self.broken = not FakeKafkaProducer.made
        self.stopped = False
        FakeKafkaProducer.made.append(self)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, _topic: str, **_record: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.broken:
            future.set_exception(OutOfOrderSequenceNumber())
        else:
            future.set_result(Metadata())
        return future


async def test_a_producer_broken_for_good_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeKafkaProducer.made = []
    monkeypatch.setattr(producing, "AIOKafkaProducer", FakeKafkaProducer)
    events = EventProducer("kafka:9092", client_id="test")
    await events.start()
    with pytest.raises(OutOfOrderSequenceNumber):
        await events.publish(call_received())
    position = await events.publish(call_received())
    assert (position.partition, position.offset) == (0, 7)
    assert len(FakeKafkaProducer.made) == 2
    assert FakeKafkaProducer.made[0].stopped
    await events.stop()
