"""Surveys follows the calls (post-call surveys will start here); for now it only counts them."""

from __future__ import annotations

from collections import Counter

from callcenter_events import Batch
from prometheus_client import Counter as MetricCounter

CALL_EVENTS_SEEN = MetricCounter(
    "callcenter_surveys_call_events_total", "Call events seen by surveys", ["type"]
)


class CallFollower:
    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    async def handle(self, batch: Batch) -> None:
        for envelope in batch.envelopes:
            self.seen[envelope.type] += 1
            CALL_EVENTS_SEEN.labels(envelope.type).inc()
