"""Routing's metrics: the wait until an offer, and the queues by tenant at scrape time."""

from __future__ import annotations

from types import SimpleNamespace

from prometheus_client import REGISTRY
from routing.domain.engine import CallRequest, Engine
from routing.domain.model import Presence
from routing.metrics import QueueLengths, observe_offers

DE_BILLING = {"tenant:acme": 1, "lang:de": 1, "topic:billing": 1}


def latency_sample(suffix: str) -> float:
    value = REGISTRY.get_sample_value(f"callcenter_routing_decision_latency_seconds_{suffix}")
    return value or 0.0


def queue_lengths(collector: QueueLengths) -> dict[str, float]:
    [family] = collector.collect()
    return {sample.labels["tenant"]: sample.value for sample in family.samples}


def test_a_call_that_waited_for_an_agent_counts_its_wait_and_leaves_the_queue() -> None:
    engine = Engine()
    collector = QueueLengths()
    collector.watch(SimpleNamespace(engine=engine))
    count, total = latency_sample("count"), latency_sample("sum")

    observe_offers(
        engine.enqueue(CallRequest("c1", "acme", 0, dict(DE_BILLING)), 10.0), engine, "f"
    )
    observe_offers(
        engine.enqueue(CallRequest("c2", "beta", 0, {"tenant:beta": 1}), 10.0), engine, "f"
    )
    assert queue_lengths(collector) == {"acme": 1, "beta": 1}

    engine.upsert_agent("a1", "A1", DE_BILLING, 1, 12.0)
    observe_offers(engine.set_presence("a1", Presence.AVAILABLE, 12.5), engine, "flow")
    assert queue_lengths(collector) == {"beta": 1}, "an offered call no longer waits"
    assert latency_sample("count") == count + 1
    assert latency_sample("sum") - total == 2.5
