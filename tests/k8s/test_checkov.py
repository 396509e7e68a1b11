"""checkov finds nothing in any overlay but what a skip explains, with its reason.

Both its Kubernetes checks and its secret scan run, offline, once per overlay. A resource skips a
check by an annotation (`checkov.io/skip1: ID=reason`); an overlay excuses, in its
`checkov-skips.yaml` (id: reason), what no annotation can skip (the secret scan's findings).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from callcenter_testkit.k8s import checkov
from callcenter_testkit.k8s.checkov import CheckovReport, overlay_skips, run_checkov
from callcenter_testkit.k8s.tools import K8S, OVERLAYS, render

ENOUGH_OF_A_REASON = 20


@dataclass(frozen=True, slots=True)
class Scan:
    overlay: str
    skips: dict[str, str]
    report: CheckovReport

    def excused(self, finding: str) -> bool:
        return finding.split(maxsplit=1)[0] in self.skips


@pytest.fixture(scope="module", params=OVERLAYS)
def scan(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Scan:
    overlay = K8S / "overlays" / str(request.param)
    report = run_checkov(render(overlay), tmp_path_factory.mktemp(overlay.name))
    return Scan(overlay.name, overlay_skips(overlay), report)


@pytest.mark.slow
def test_no_finding_but_those_the_overlay_excuses(scan: Scan) -> None:
    unexcused = [finding for finding in scan.report.failed if not scan.excused(finding)]

    assert unexcused == []
    assert scan.report.passed > 100


@pytest.mark.slow
def test_every_excuse_is_needed(scan: Scan) -> None:
    found = {finding.split()[0] for finding in scan.report.failed}

    assert set(scan.skips) <= found


@pytest.mark.slow
def test_every_skip_has_a_reason(scan: Scan) -> None:
    reasons = [reason for _, reason in scan.report.skipped] + list(scan.skips.values())

    assert scan.report.skipped
    assert [r for r in reasons if len(r.strip()) < ENOUGH_OF_A_REASON] == []


def test_the_dev_secrets_are_excused_and_prod_has_none() -> None:
    assert set(overlay_skips(K8S / "overlays" / "dev")) == {"CKV_SECRET_6"}
    assert overlay_skips(K8S / "overlays" / "prod") == {}


def test_a_missing_tool_says_to_run_make_tools(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(checkov, "CHECKOV", tmp_path / "checkov")

    with pytest.raises(RuntimeError, match="run `make tools`"):
        run_checkov("", tmp_path)
