"""`callcenter_projection_lag`: how many records each projection of this process is behind.

Read when Prometheus scrapes, from each projection's consumer (which measures its partitions'
distance to the log end every half second); a projection that stopped is forgotten.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Protocol

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector


class Lagging(Protocol):
    metric_name: str

    @property
    def lag(self) -> int: ...


class ProjectionLag(Collector):
    def __init__(self) -> None:
        self._projections: weakref.WeakSet[Lagging] = weakref.WeakSet()

    def watch(self, projection: Lagging) -> None:
        self._projections.add(projection)

    def forget(self, projection: Lagging) -> None:
        self._projections.discard(projection)

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "callcenter_projection_lag",
            "Records of the projection's topics not yet projected (assigned partitions)",
            labels=["projection"],
        )
        lags: dict[str, int] = {}
        for projection in list(self._projections):
            name = projection.metric_name
            lags[name] = lags.get(name, 0) + projection.lag
        for name, lag in sorted(lags.items()):
            family.add_metric([name], lag)
        yield family


PROJECTION_LAG = ProjectionLag()
REGISTRY.register(PROJECTION_LAG)
