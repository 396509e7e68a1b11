"""What routing does with the calls intake reports: queue, withdraw, start and end wrap-up."""

from __future__ import annotations

from collections.abc import Callable

from callcenter_events import Batch, Envelope
from callcenter_events.batch import TransientError
from callcenter_events.models import (
    CallAbandoned,
    CallEnded,
    CallReceived,
    CallWrappedUp,
    Direction,
)
from callcenter_service.directory import TenantDirectory

from routing.core import Command, Order, RoutingCore, StaleStateError
from routing.domain.decisions import Effect
from routing.domain.engine import CallRequest, Engine
from routing.domain.model import DEFAULT_POLICY, Policy
from routing.domain.requirements import requirements_of

TYPES = frozenset({"call.received", "call.abandoned", "call.ended", "call.wrapped_up"})


class RoutingHandlers:
    def __init__(self, core: RoutingCore, tenants: Callable[[], TenantDirectory]) -> None:
        self._core = core
        self._tenants = tenants

    async def handle(self, batch: Batch) -> None:
        """Every event's command runs in the batch's order; their facts go out together."""
        orders = [
            Order(command, e.correlation_id, e.id)
            for e in batch.envelopes
            if (command := self._command(e)) is not None
        ]
        if not orders:
            return
        await self._core.until_live()  # the consumer starts while the state is rebuilt
        try:
            await self._core.execute_all(orders)
        except StaleStateError as exc:
            raise TransientError(str(exc)) from exc  # retried once routing is rebuilt

    def _command(self, envelope: Envelope) -> Command | None:
        event = envelope.data
        if isinstance(event, CallReceived):
            return self._enqueue(event)
        if isinstance(event, CallAbandoned):
            return lambda engine, now: engine.cancel(event.call_id, now)
        if isinstance(event, CallEnded):
            return lambda engine, now: engine.end_call(event.call_id, now)
        if isinstance(event, CallWrappedUp):
            return lambda engine, now: engine.wrap_up(event.call_id, now)
        return None

    def _enqueue(self, call: CallReceived) -> Command:
        request = CallRequest(
            call.call_id,
            call.tenant_id,
            call.priority,
            requirements_of(
                call.tenant_id,
                call.language,
                call.topic,
                call.required_skills,
                outbound=call.direction is Direction.OUTBOUND,
            ),
        )
        wrap_up_limit = self._wrap_up_limit(call.tenant_id)

        def enqueue(engine: Engine, now: float) -> list[Effect]:
            # Asked when the command runs, not when the batch arrives: a batch can arrive
            # while routing is rebuilt, before the facts have told it which calls finished.
            if call.call_id in self._core.finished_calls:
                return []  # a repeat delivery of a call routing already finished
            effects: list[Effect] = []
            if call.tenant_id not in engine.policies and wrap_up_limit is not None:
                policy = Policy(wrap_up_limit_s=wrap_up_limit)  # the tenant's setting applies
                effects += engine.set_policy(call.tenant_id, policy, now)
            return effects + engine.enqueue(request, now)

        return enqueue

    def _wrap_up_limit(self, tenant_id: str) -> float | None:
        """The tenant's own wrap-up limit, when it differs from the default policy's."""
        tenant = self._tenants().tenants.get(tenant_id)
        if tenant is None or tenant.settings.wrap_up_limit_s == DEFAULT_POLICY.wrap_up_limit_s:
            return None
        return float(tenant.settings.wrap_up_limit_s)
