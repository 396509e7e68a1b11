"""Routing's handlers of intake's call events, against a core that is being rebuilt."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from callcenter_events.batch import Batch
from callcenter_events.testing import call_received
from callcenter_service.directory import TenantDirectory
from routing.core import Order
from routing.domain.decisions import CallEnqueued, Effect
from routing.domain.engine import Engine
from routing.handlers import RoutingHandlers


class RebuildingCore:
    """A batch arrives while routing is rebuilt: `until_live` returns once the facts said
    which calls finished, as `RoutingCore` does after folding them."""

    def __init__(self, finished_after_rebuild: list[str]) -> None:
        self.finished_calls: OrderedDict[str, None] = OrderedDict()
        self._finished = finished_after_rebuild
        self.engine = Engine()
        self.effects: list[Effect] = []

    async def until_live(self) -> None:
        await asyncio.sleep(0)
        self.finished_calls.update(dict.fromkeys(self._finished))

    async def execute_all(self, orders: list[Order]) -> None:
        for order in orders:
            self.effects += order.command(self.engine, 1.0)


async def test_a_finished_call_delivered_again_during_a_rebuild_is_not_queued_again() -> None:
    """The fault suite found finished calls queued (and offered) again after a restart: the
    check of the finished calls ran before the rebuild had restored them."""
    core = RebuildingCore(finished_after_rebuild=["done"])
    handlers = RoutingHandlers(core, TenantDirectory)  # type: ignore[arg-type]
    batch = Batch([call_received("done"), call_received("new")])
    await handlers.handle(batch)
    queued: list[Any] = [e.call_id for e in core.effects if isinstance(e, CallEnqueued)]
    assert queued == ["new"]
