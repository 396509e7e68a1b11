"""`callcenter_projection_lag`: read from the projections this process runs, at scrape time."""

from __future__ import annotations

from dataclasses import dataclass

from callcenter_service.projection_metrics import ProjectionLag


@dataclass(eq=False)
class Runner:
    metric_name: str
    lag: int


def lags(collector: ProjectionLag) -> dict[str, float]:
    [family] = collector.collect()
    assert family.name == "callcenter_projection_lag"
    return {sample.labels["projection"]: sample.value for sample in family.samples}


def test_each_projection_reports_its_lag_until_it_stops() -> None:
    collector = ProjectionLag()
    calls, agents = Runner("analytics.calls.v3", 120), Runner("analytics.agents.v1", 0)
    collector.watch(calls)
    collector.watch(agents)
    assert lags(collector) == {"analytics.calls.v3": 120, "analytics.agents.v1": 0}
    calls.lag = 7
    assert lags(collector)["analytics.calls.v3"] == 7, "read when scraped"
    collector.forget(calls)
    assert lags(collector) == {"analytics.agents.v1": 0}
