"""The analysts' dashboard in headless Chromium, against the running platform and its data.

Two tenants with different calls and survey answers (`callcenter_testkit.isolation`: acme has
more of everything than globex, and other thresholds). The page is signed in to as a user
would (the key typed into the form); every panel's table must show the numbers the query API
answers for the query that panel names (`data-query`, also its CSV link), fetched here with
httpx; then the range and the grouping change and the check runs again. Screenshots at 1280 px
and at a phone's 390 px go to `test-artifacts/dashboard/`.

Chromium is Debian's (`make browser`, run by `make test`); in CI (`CI` set) a missing browser
fails the test, elsewhere it skips with the reason.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from analytics.dashboard_assets import PLOTLY_ASSET as PLOTLY
from callcenter_testkit.isolation import QUIET, World, build_world
from callcenter_testkit.platform import OPERATOR_TOKEN, Platform, fresh_platform
from callcenter_testkit.tally import count
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(240)]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "dashboard"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_S = 30
CALL_PANELS = ("panel-volume", "panel-service-level", "panel-handling")
SURVEY_PANELS = ("panel-by-question", "panel-by-campaign", "panel-by-segment")
QUEUE_PANELS = ("panel-queues", "panel-skills")
ROWS_OF = {"panel-queues": "queues", "panel-skills": "skills"}  # others: "rows"
NO_VALUE = ("—", "(none)")
COUNTS = frozenset(
    {
        "offered",
        "answered",
        "abandoned",
        "answered_within_threshold",
        "waiting",
        "agents_available",
        "responses",
        "nps_answers",
        "csat_answers",
    }
)
# key -> (scale, decimals, unit) of the number the page shows
NUMBERS = {
    "service_level": (100, 1, " %"),
    "abandonment_rate": (100, 1, " %"),
    "csat": (100, 1, " %"),
    "asa_s": (1, 1, " s"),
    "aht_s": (1, 1, " s"),
    "longest_wait_s": (1, 1, " s"),
    "nps": (1, 1, ""),
    "csat_mean": (1, 2, ""),
}
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => window.cspViolations.push({
  directive: event.effectiveDirective, source: event.sourceFile, line: event.lineNumber,
  blocked: event.blockedURI }));
"""
PANELS_JS = """
const seen = {};
for (const panel of document.querySelectorAll("section.panel")) {
  const empty = panel.querySelector(".empty");
  const chart = panel.querySelector(".chart");
  const link = panel.querySelector("a.csv");
  seen[panel.id] = {
    query: panel.dataset.query || "",
    hidden: panel.hidden,
    empty: empty && !empty.hidden ? empty.textContent : "",
    rows: [...panel.querySelectorAll("tbody tr")].map((tr) =>
      Object.fromEntries([...tr.children].map((cell) => [cell.dataset.key, cell.textContent]))),
    traces: chart && chart.data ? chart.data.length : 0,
    patterns: chart && chart.data ? chart.data.map((t) => (t.marker && t.marker.pattern
      ? t.marker.pattern.shape : null)) : [],
    link: link ? link.getAttribute("href") : "",
  };
}
return seen;
"""


@pytest.fixture(scope="module")
def dashboard_platform(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    folder = tmp_path_factory.mktemp("dashboard")
    with fresh_platform(kafka_bootstrap, "dash", folder, extra_env=QUIET) as running:
        yield running


@pytest.fixture(scope="module")
def world(dashboard_platform: Platform, kafka_bootstrap: str) -> World:
    return asyncio.run(build_world(dashboard_platform, kafka_bootstrap))


@dataclass(frozen=True)
class Browser:
    driver: webdriver.Chrome
    downloads: Path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing and os.environ.get("CI"):
        pytest.fail(f"{missing} missing in CI: `make test` installs them (deploy/chromium.sh)")
    if missing:
        pytest.skip(f"{missing} missing: `make browser` installs Debian's chromium")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,900")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    downloads = tmp_path_factory.mktemp("downloads")
    saving = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    options.add_experimental_option("prefs", saving)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    yield Browser(driver, downloads)
    driver.quit()


class Page:
    """The dashboard in the browser, as a user works it."""

    def __init__(self, browser: Browser, base: str) -> None:
        self.driver = browser.driver
        self.downloads = browser.downloads
        self.base = base

    def open(self) -> None:
        """The page in a new tab: nothing kept in the session storage of an earlier one."""
        earlier = self.driver.current_window_handle
        self.driver.switch_to.new_window("tab")
        fresh = self.driver.current_window_handle
        self.driver.switch_to.window(earlier)
        self.driver.close()
        self.driver.switch_to.window(fresh)
        self.driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS}
        )
        self.driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(self.downloads)},
        )
        self.driver.get(f"{self.base}/dashboard")
        self.wait_for(lambda: self.state() == "signed-out", "the sign-in form")

    def sign_in(self, token: str, expect: str = "ready") -> None:
        field = self.driver.find_element(By.ID, "token")
        field.clear()
        field.send_keys(token)
        self.driver.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
        self.settled(expect)

    def choose(self, select_id: str, value: str) -> None:
        Select(self.driver.find_element(By.ID, select_id)).select_by_value(value)
        self.settled()

    def set_inputs(self, values: dict[str, str]) -> None:
        """Type into date fields as the browser's own picker would (one change event)."""
        for element_id, value in values.items():
            self.driver.execute_script(
                "const field = document.getElementById(arguments[0]); field.value = arguments[1];"
                "field.dispatchEvent(new Event('change'));",
                element_id,
                value,
            )
            self.settled()

    def state(self) -> str:
        return str(self.driver.execute_script("return document.body.dataset.state"))

    def settled(self, expect: str = "ready") -> None:
        done = ("ready", "error", "refused")
        self.wait_for(lambda: self.state() in done, f"the page to settle ({expect})")
        error = self.text("board-error") or self.text("sign-in-error")
        assert self.state() == expect, (self.state(), error)

    def wait_for(self, condition: Any, what: str) -> None:
        WebDriverWait(self.driver, WAIT_S, poll_frequency=0.1).until(
            lambda _: condition(), message=what
        )

    def text(self, element_id: str) -> str:
        return str(self.driver.find_element(By.ID, element_id).text)

    def panels(self) -> dict[str, dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = self.driver.execute_script(PANELS_JS)
        return seen

    def screenshot(self, name: str, width: int, mobile: bool) -> Path:
        """The whole page at `width` CSS pixels, saved as a test artifact."""
        metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": mobile}
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        self.wait_for(lambda: self._fits(width), f"the page laid out at {width} px")
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        path.write_bytes(base64.b64decode(shot["data"]))
        print(f"dashboard screenshot: {path}")
        count("dashboard", f"bytes of {path.relative_to(REPO)}", path.stat().st_size)
        return path

    def _fits(self, width: int) -> bool:
        """The viewport is `width` wide and nothing sticks out sideways (charts resized)."""
        inner, scroll, widest_chart = self.driver.execute_script(
            "return [window.innerWidth, document.documentElement.scrollWidth,"
            " Math.max(0, ...[...document.querySelectorAll('.chart .main-svg')]"
            ".map((svg) => svg.getBoundingClientRect().right))]"
        )
        return bool(inner == width and scroll <= width and widest_chart <= width)


def shown_as(panel: str, key: str, value: Any, shown: str, *, later: bool = False) -> None:
    """The page shows `value` (the API's) as `shown`, in the page's documented format."""
    where = (panel, key, value, shown)
    if key == "period_start":
        moment = datetime.fromisoformat(value).astimezone(UTC)
        assert shown == moment.strftime("%Y-%m-%d %H:%M"), where
    elif value is None:
        assert shown in NO_VALUE, where
    elif key in NUMBERS:
        scale, places, unit = NUMBERS[key]
        assert shown.endswith(unit), where
        number = float(shown.removesuffix(unit))
        if later:  # the API was asked after the page: a wait has grown since
            assert 0 <= number <= value * scale + 0.05, where
        else:
            assert abs(number - value * scale) <= 0.5 * 10**-places + 1e-9, where
    else:
        assert key in COUNTS or not isinstance(value, int | float), where
        assert shown == str(value), where


def check_panels(page: Page, api: httpx.Client, names: tuple[str, ...]) -> dict[str, int]:
    """Each panel shows what the query API answers for that panel's query; rows per panel."""
    seen = page.panels()
    shown_rows: dict[str, int] = {}
    for name in names:
        panel = seen[name]
        assert panel["query"], (name, panel)
        assert panel["link"] == panel["query"], (name, "the CSV link is the panel's query")
        answer = api.get(panel["query"])
        assert answer.status_code == 200, (name, answer.text)
        rows = answer.json()[ROWS_OF.get(name, "rows")]
        assert len(panel["rows"]) == len(rows), (name, panel["rows"], rows)
        for shown, row in zip(panel["rows"], rows, strict=True):
            for key, text in shown.items():
                assert key in row or key.startswith("segment."), (name, key, row)
                shown_as(name, key, row.get(key), text, later=name == "panel-queues")
        if rows:
            assert panel["traces"] > 0, (name, "drawn", panel)
            assert not panel["empty"], (name, panel)
        else:
            assert panel["empty"].startswith("No "), (name, panel)
        shown_rows[name] = len(rows)
        count("dashboard", "panels compared with the query API")
        count("dashboard", "rows compared", len(rows))
    return shown_rows


def client_for(platform: Platform, token: str) -> httpx.Client:
    auth = {"Authorization": f"Bearer {token}"}
    return httpx.Client(base_url=platform.url("analytics"), headers=auth, timeout=10)


def test_a_tenant_reads_its_numbers_in_every_panel_over_ranges_and_groupings(
    dashboard_platform: Platform, world: World, browser: Browser
) -> None:
    page = Page(browser, dashboard_platform.url("analytics"))
    page.open()
    page.sign_in(world.a.key)
    assert "acme" in page.text("who")
    with client_for(dashboard_platform, world.a.key) as api:
        everything = (*CALL_PANELS, *QUEUE_PANELS, *SURVEY_PANELS)
        rows = check_panels(page, api, everything)
        assert rows["panel-volume"] >= 1, rows
        assert rows["panel-by-question"] == 2, rows
        volume = page.panels()["panel-volume"]
        assert len(set(volume["patterns"])) == 3, "offered, answered, abandoned: 3 patterns"
        page.screenshot("dashboard-1280.png", 1280, mobile=False)
        page.screenshot("dashboard-390.png", 390, mobile=True)
        page.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        page.choose("range", "7d")
        assert (
            Select(page.driver.find_element(By.ID, "interval")).first_selected_option.text == "day"
        )
        page.choose("group", "topic")
        check_panels(page, api, (*CALL_PANELS, *SURVEY_PANELS))
        topics = {row["topic"] for row in page.panels()["panel-volume"]["rows"]}
        assert topics == {"billing", "sales"}
        assert "group_by=topic" in page.panels()["panel-volume"]["query"]

        page.choose("range", "custom")
        page.set_inputs({"from": "2026-01-05T00:00", "to": "2026-01-12T00:00"})
        rows = check_panels(page, api, (*CALL_PANELS, *SURVEY_PANELS))
        assert set(rows.values()) == {0}, "nothing happened in that week"
        assert page.panels()["panel-volume"]["empty"].startswith("No calls in this range")

        download_matches_the_api_csv(page, api)
        queues_refresh_by_themselves(page, api, dashboard_platform, world)
    assert_no_policy_violations(page.driver)


def download_matches_the_api_csv(page: Page, api: httpx.Client) -> None:
    page.choose("range", "24h")
    query = page.panels()["panel-volume"]["query"]
    page.driver.find_element(By.CSS_SELECTOR, "#panel-volume a.csv").click()
    folder = page.downloads
    page.wait_for(lambda: list(folder.glob("*.csv")), "the CSV download")
    [saved] = folder.glob("*.csv")
    expected = api.get(query, headers={"Accept": "text/csv"})
    assert expected.headers["content-type"].startswith("text/csv")
    assert saved.read_bytes() == expected.content, "the download is the API's CSV, byte for byte"
    count("dashboard", "CSV downloads compared")


def queues_refresh_by_themselves(
    page: Page, api: httpx.Client, platform: Platform, world: World
) -> None:
    """A call arriving now shows in the queues without touching the page."""
    call = {"caller_phone": "+4930777001", "language": "de", "topic": "sales"}
    auth = {"Authorization": f"Bearer {world.a.key}"}
    posted = httpx.post(f"{platform.url('intake')}/v1/calls", json=call, headers=auth)
    assert posted.status_code == 202, posted.text
    now = api.get("/v1/analytics/realtime", params={"min_position": posted.json()["position"]})
    waiting = sum(queue["waiting"] for queue in now.json()["queues"])

    def page_waiting() -> int:
        rows = page.panels()["panel-queues"]["rows"]
        return sum(int(row["waiting"]) for row in rows)

    page.wait_for(lambda: page_waiting() == waiting, f"{waiting} waiting on the page")
    check_panels(page, api, QUEUE_PANELS)
    skills = page.panels()["panel-skills"]
    table = api.get(skills["query"], headers={"Accept": "text/csv"}).text
    assert list(csv.DictReader(io.StringIO(table))) == skills["rows"], "the skills CSV"


def assert_no_policy_violations(driver: webdriver.Chrome) -> None:
    """Nothing the page does is refused by its Content-Security-Policy since it was loaded.

    One refusal is expected and harmless: Plotly's bundle adds the CSS of its map-tile
    library (MapLibre) as a `<style>` element when it loads; the page draws no maps.
    """
    seen: list[dict[str, Any]] = driver.execute_script("return window.cspViolations")
    unexpected = [
        v for v in seen if not (v["directive"] == "style-src-elem" and PLOTLY in v["source"])
    ]
    assert unexpected == [], unexpected
    logs: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    refused = [entry["message"] for entry in logs if "Refused to" in entry["message"]]
    assert refused == [], refused
    count("dashboard", "page loads checked for CSP violations")


def test_each_key_sees_its_own_tenant_and_a_wrong_key_is_told(
    dashboard_platform: Platform, world: World, browser: Browser
) -> None:
    page = Page(browser, dashboard_platform.url("analytics"))
    page.open()
    page.sign_in(world.b.key)
    with client_for(dashboard_platform, world.b.key) as api:
        b_rows = check_panels(page, api, (*CALL_PANELS, *QUEUE_PANELS, *SURVEY_PANELS))
    with client_for(dashboard_platform, world.a.key) as api:
        a_offered = sum(row["offered"] for row in api.get("/v1/analytics/calls").json()["rows"])
    b_offered = sum(int(row["offered"]) for row in page.panels()["panel-volume"]["rows"])
    assert 0 < b_offered < a_offered, "B's page shows B's calls, fewer than A's"
    html = page.driver.page_source
    for value in (world.a.tenant_id, world.a.survey_id, world.a.campaign_survey_id):
        assert value not in html, f"B's page shows A's {value}"
    assert b_rows["panel-by-question"] == 2

    page.driver.find_element(By.ID, "sign-out").click()
    wrong = f"cck_{'0' * 16}_{'x' * 32}"
    page.sign_in(wrong, expect="refused")
    with client_for(dashboard_platform, wrong) as api:
        refusal = api.get("/v1/analytics/tenants")
    assert refusal.status_code == 401
    assert refusal.json()["detail"] in page.text("sign-in-error")
    assert not page.driver.find_element(By.ID, "board").is_displayed()

    page.sign_in(OPERATOR_TOKEN)
    picker = Select(page.driver.find_element(By.ID, "tenant"))
    assert [option.get_attribute("value") for option in picker.options] == ["acme", "globex"]
    page.choose("tenant", world.b.tenant_id)
    with client_for(dashboard_platform, OPERATOR_TOKEN) as api:
        check_panels(page, api, (*CALL_PANELS, *QUEUE_PANELS, *SURVEY_PANELS))
    assert "tenant_id=globex" in page.panels()["panel-volume"]["query"]
    assert_no_policy_violations(page.driver)
