"""Routing's metrics: how long calls wait for their offer, and the queues by tenant.

The queue lengths are counted when Prometheus scrapes (one pass over the waiting calls), not
on every command: the engine's hot path pays nothing for them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

import structlog
from prometheus_client import REGISTRY, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from routing.domain import decisions as fx
from routing.domain.engine import Engine

DECISION_LATENCY = Histogram(
    "callcenter_routing_decision_latency_seconds",
    "From a call joining the queue to its offer to an agent (engine clock)",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600),
)
log = structlog.get_logger("routing.decisions")


def observe_offers(effects: Sequence[fx.Effect], engine: Engine, flow: str) -> None:
    """A latency sample and an INFO line per offer made (the decision, in short)."""
    for effect in effects:
        if not isinstance(effect, fx.OfferMade):
            continue
        decision = effect.decision
        call = engine.calls.get(decision.call_id)
        waited = None if call is None else max(decision.time - call.queued_at, 0.0)
        if waited is not None:
            DECISION_LATENCY.observe(waited)
        log.info(
            "call_offered",
            call_id=decision.call_id,
            tenant_id=decision.tenant_id,
            agent_id=decision.agent_id,
            offer_id=decision.offer_id,
            step=decision.step,
            eligible=decision.eligible_count,
            tie_break=decision.tie_break,
            waited_s=None if waited is None else round(waited, 6),
            correlation_id=flow,
        )


class QueueLengths(Collector):
    """`callcenter_routing_queue_length{tenant}`: calls waiting without an offer, per tenant."""

    def __init__(self) -> None:
        self.engine_of: Iterable[Engine] = ()

    def watch(self, core: object) -> None:
        """Count the calls of `core.engine` (the engine is replaced at each rebuild)."""
        self.engine_of = _Engines(core)

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "callcenter_routing_queue_length",
            "Calls waiting for an agent without an offer, per tenant",
            labels=["tenant"],
        )
        counts: Counter[str] = Counter()
        for engine in self.engine_of:
            counts.update(c.tenant_id for c in list(engine.calls.values()) if c.offer is None)
        for tenant, waiting in sorted(counts.items()):
            family.add_metric([tenant], waiting)
        yield family


class _Engines:
    def __init__(self, core: object) -> None:
        self._core = core

    def __iter__(self) -> Iterator[Engine]:
        engine = getattr(self._core, "engine", None)
        return iter([engine] if isinstance(engine, Engine) else [])


QUEUE_LENGTHS = QueueLengths()
REGISTRY.register(QUEUE_LENGTHS)
