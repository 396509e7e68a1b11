"""checkov finds nothing in any overlay, but what a skip annotation explains."""

from __future__ import annotations

from pathlib import Path

import pytest
from callcenter_testkit.k8s import checkov
from callcenter_testkit.k8s.checkov import CheckovReport, run_checkov
from callcenter_testkit.k8s.tools import K8S, OVERLAYS, render


@pytest.fixture(scope="module", params=OVERLAYS)
def report(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> CheckovReport:
    overlay: str = request.param
    return run_checkov(render(K8S / "overlays" / overlay), tmp_path_factory.mktemp(overlay))


@pytest.mark.slow
def test_no_finding(report: CheckovReport) -> None:
    assert report.failed == []
    assert report.passed > 100


@pytest.mark.slow
def test_every_skip_has_a_reason(report: CheckovReport) -> None:
    unexplained = [check for check, reason in report.skipped if len(reason.strip()) < 20]

    assert unexplained == []


def test_a_missing_tool_says_to_run_make_tools(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(checkov, "CHECKOV", tmp_path / "checkov")

    with pytest.raises(RuntimeError, match="run `make tools`"):
        run_checkov("", tmp_path)
