"""The HTML report and the index as a reader sees them: headless Chromium (Debian
``chromium``) opens the files, the charts load, the tables show, the console stays
clean and the index filters work. Screenshots go to the test's tmp dir and to
``/tmp/cx-agent-screens/`` for a person to look at.

Playwright drives the system's Chromium (no browser download); each launch gets a new
empty profile. Skipped only when no ``chromium`` is on the PATH.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from agent.model import EpisodeStatus
from agent.report import write_index, write_reports

from . import day, report_input
from .test_index import in_episode

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENS = Path("/tmp/cx-agent-screens")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reports of two metrics over three days, an alert going on, and the index."""
    reports = tmp_path_factory.mktemp("site") / "reports"
    write_reports(report_input(day(11, 17), findings=False, value=0.35), reports)
    write_reports(in_episode(report_input(day(11, 18)), EpisodeStatus.NEW, 1), reports)
    write_reports(in_episode(report_input(day(11, 19)), EpisodeStatus.ONGOING, 2), reports)
    conversion = report_input(
        day(11, 19), metric="conversion", title="Conversion", findings=False, value=0.041
    )
    write_reports(conversion, reports)
    korean = in_episode(
        report_input(day(11, 19), metric="revisit_ko", title="재방문율"), EpisodeStatus.NEW, 1
    )
    write_reports(replace(korean, locale="ko"), reports)
    write_index(reports)
    return reports


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def errors() -> list[str]:
    """Console errors, uncaught page errors and failed requests of the test's pages."""
    return []


Opener = Callable[..., Page]


@pytest.fixture
def open_page(browser: Browser, errors: list[str]) -> Iterator[Opener]:
    """Opens a file in a fresh browser context (no shared cache or storage); closes them all."""
    contexts: list[BrowserContext] = []

    def open_(path: Path, *, js: bool = True) -> Page:
        context = browser.new_context(
            viewport={"width": 900, "height": 900}, java_script_enabled=js
        )
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("requestfailed", lambda req: errors.append(f"failed: {req.url}"))
        page.goto(path.as_uri(), wait_until="load")
        return page

    yield open_
    for context in contexts:
        context.close()


def _screenshot(page: Page, tmp_path: Path, name: str) -> None:
    shot = tmp_path / name
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 10_000
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SCREENS / name)


def _visible_metrics(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "tbody.run:not([hidden])", "els => els.map(e => e.dataset.metric)"
    )


@pytest.mark.parametrize(
    ("report", "shot"),
    [
        ("2024-11-19/revisit_rate.html", "report.png"),
        ("2024-11-19/revisit_ko.html", "report-ko.png"),
    ],
)
def test_report_shows_its_chart_and_tables(
    open_page: Opener, site: Path, errors: list[str], tmp_path: Path, report: str, shot: str
) -> None:
    page = open_page(site / report)
    charts = page.locator("img.chart")
    assert charts.count() == 3  # the metric, its causes, the top segments' own series
    for chart in charts.all():
        chart.scroll_into_view_if_needed()
        assert chart.is_visible()
        assert chart.evaluate("img => img.complete && img.naturalWidth") > 0
    assert page.locator("table.facts").is_visible()
    assert page.locator("table.causes tr").count() == 3  # header + two causes
    assert page.locator("table.causes").is_visible()
    _screenshot(page, tmp_path, shot)
    assert errors == []


def test_index_lists_everything_and_its_links_open(
    open_page: Opener, site: Path, errors: list[str], tmp_path: Path
) -> None:
    page = open_page(site / "index.html")
    assert page.locator("#filters").is_visible()
    assert _visible_metrics(page) == ["conversion", "revisit_ko"] + ["revisit_rate"] * 3
    assert page.locator("table.episodes").first.is_visible()
    _screenshot(page, tmp_path, "index.png")
    page.locator("a.previous").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/2024-11-18/revisit_rate.html")
    assert page.locator("img.chart").first.evaluate("img => img.naturalWidth") > 0
    assert errors == []


def test_a_report_links_the_previous_report_of_its_alert(
    open_page: Opener, site: Path, errors: list[str]
) -> None:
    page = open_page(site / "2024-11-19/revisit_rate.html")
    link = page.locator("table.facts a.previous")
    assert link.inner_text() == "Previous report of this alert: Nov 18, 2024"
    link.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/2024-11-18/revisit_rate.html")
    assert page.locator("table.facts a.previous").count() == 0  # the first report of it
    assert errors == []


def test_index_filters_by_metric_and_severity(
    open_page: Opener, site: Path, errors: list[str], tmp_path: Path
) -> None:
    page = open_page(site / "index.html")
    page.select_option("select[name=metric]", "revisit_rate")
    assert _visible_metrics(page) == ["revisit_rate"] * 3
    sections = page.locator("section.metric:not([hidden]) h3").all_inner_texts()
    assert sections == ["Revisit rate"]
    page.select_option("select[name=severity]", "none")
    assert _visible_metrics(page) == ["revisit_rate"]
    assert page.locator("tr.episode:visible").count() == 0
    page.select_option("select[name=metric]", "")
    assert _visible_metrics(page) == ["conversion", "revisit_rate"]
    page.select_option("select[name=severity]", "critical")
    assert _visible_metrics(page) == ["revisit_ko", "revisit_rate", "revisit_rate"]
    assert page.locator("tr.episode:visible").count() == 2
    _screenshot(page, tmp_path, "index-filtered.png")
    assert errors == []


def test_index_without_javascript_shows_the_full_list(
    open_page: Opener, site: Path, errors: list[str]
) -> None:
    page = open_page(site / "index.html", js=False)
    assert not page.locator("#filters").is_visible()
    assert page.locator("tbody.run").count() == 5
    assert all(row.is_visible() for row in page.locator("tbody.run tr").all())
    assert errors == []
