"""docs/observability.md names every Prometheus metric the code defines (found in the source)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "observability.md"
METRIC_CLASSES = {"Counter", "Gauge", "Histogram", "Summary", "MetricCounter", "GaugeMetricFamily"}


def metric_name(node: ast.AST) -> str | None:
    """The name a metric constructor call gives, if `node` is one with a `callcenter_*` literal."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    first = node.args[0]
    if called not in METRIC_CLASSES or not isinstance(first, ast.Constant):
        return None
    value = first.value
    return value if isinstance(value, str) and value.startswith("callcenter_") else None


def defined_metrics() -> set[str]:
    names: set[str] = set()
    for root in (REPO / "libs", REPO / "services"):
        for source in root.glob("*/src/**/*.py"):
            tree = ast.parse(source.read_text(), str(source))
            names.update(name for node in ast.walk(tree) if (name := metric_name(node)))
    return names


def test_every_metric_is_documented() -> None:
    defined = defined_metrics()
    assert {"callcenter_projection_lag", "callcenter_http_request_seconds"} <= defined
    documented = DOC.read_text()
    assert sorted(name for name in defined if f"`{name}" not in documented) == []
