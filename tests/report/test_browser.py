"""The HTML report and the index as a reader sees them: headless Chromium (Debian
``chromium``) opens the files, the charts load, the tables show, the console stays
clean and the index filters work; the status board opens the index at a desktop's
1280 px and a phone's 390 px with no horizontal scroll, without JavaScript too.
Screenshots go to the test's tmp dir and to ``/tmp/cx-agent-screens/`` for a person to
look at.

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

from agent.model import EpisodeStatus, FindingKind, Note, Severity
from agent.report import ReportInput, write_index, write_reports

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


def _late(metric: str, title: str) -> ReportInput:
    """A run whose data for Nov 19 is missing: a late-data finding, nothing judged."""
    inp = in_episode(report_input(day(11, 19), metric=metric, title=title), EpisodeStatus.NEW, 1)
    [e] = inp.run.explanations
    late = replace(
        e.finding,
        kind=FindingKind.LATE_DATA,
        severity=Severity.WARNING,
        since=day(11, 19),
        reason=Note("reason_late_missing", {"day": day(11, 19)}),
    )
    episode = replace(e.episode, severity=Severity.WARNING)  # type: ignore[type-var]
    run = replace(inp.run, explanations=[replace(e, finding=late, causes=[], episode=episode)])
    return replace(inp, run=run)


def _not_judged() -> ReportInput:
    inp = report_input(
        day(11, 19), metric="premium_share", title="Premium share", findings=False, value=0.16
    )
    notes = [Note("note_not_judged", {"period": day(11, 19), "why": Note("why_holiday")})]
    return replace(inp, run=replace(inp.run, notes=notes))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reports of five metrics (an alert going on over three days, a Korean alert with a
    long title, data late, not judged, normal), and the index."""
    reports = tmp_path_factory.mktemp("site") / "reports"
    write_reports(report_input(day(11, 17), findings=False, value=0.35), reports)
    write_reports(in_episode(report_input(day(11, 18)), EpisodeStatus.NEW, 1), reports)
    write_reports(in_episode(report_input(day(11, 19)), EpisodeStatus.ONGOING, 2), reports)
    conversion = report_input(
        day(11, 19), metric="conversion", title="Conversion", findings=False, value=0.041
    )
    write_reports(conversion, reports)
    title = "재방문율 (앱 안드로이드 프리미엄 고객, 수도권 오프라인 매장 방문 포함)"
    korean = in_episode(
        report_input(day(11, 19), metric="revisit_ko", title=title), EpisodeStatus.NEW, 1
    )
    write_reports(replace(korean, locale="ko"), reports)
    write_reports(_late("nps", "NPS"), reports)
    write_reports(_not_judged(), reports)
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

    def open_(path: Path, *, js: bool = True, width: int = 900) -> Page:
        context = browser.new_context(
            viewport={"width": width, "height": 900}, java_script_enabled=js
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
    assert _visible_metrics(page) == [
        "conversion", "nps", "premium_share", "revisit_ko", *["revisit_rate"] * 3
    ]  # fmt: skip
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
    assert _visible_metrics(page) == ["conversion", "premium_share", "revisit_rate"]
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
    assert page.locator("tbody.run").count() == 7
    assert all(row.is_visible() for row in page.locator("tbody.run tr").all())
    assert errors == []


BOARD = ["revisit_rate", "revisit_ko", "nps", "premium_share", "conversion"]
"""Alerts first (critical, then by title), then data late, not judged and normal."""


def _no_horizontal_scroll(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    wider = page.eval_on_selector_all(
        "body *",
        f"els => els.filter(e => e.getBoundingClientRect().right > {width} + 0.5)"
        ".map(e => e.tagName + '.' + e.className)",
    )
    assert wider == []


@pytest.mark.parametrize("js", [True, False])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_status_board_opens_the_index_at_desktop_and_phone_widths(
    open_page: Opener, site: Path, errors: list[str], tmp_path: Path, width: int, js: bool
) -> None:
    page = open_page(site / "index.html", width=width, js=js)
    assert page.locator("h2").first.inner_text() == "Now"
    board = page.locator("table.board")
    assert board.is_visible()
    history = page.locator("section.metric").first.bounding_box()
    assert board.bounding_box()["y"] < history["y"]  # type: ignore[index]
    rows = page.locator("table.board tbody tr")
    assert [r.get_attribute("data-metric") for r in rows.all()] == BOARD
    states = [r.locator("td.state .badge").inner_text() for r in rows.all()]
    assert [s.lower() for s in states] == [
        "critical alert", "critical alert", "data late", "not judged", "normal"
    ]  # fmt: skip
    assert rows.nth(2).locator(".note").inner_text() == "data for Nov 19 is missing"
    for row in rows.all():  # every metric's last periods against its band
        spark = row.locator("svg.spark")
        assert spark.is_visible() and spark.locator("polygon.band").count() == 1
        assert spark.bounding_box()["width"] == pytest.approx(120)  # type: ignore[index]
    _no_horizontal_scroll(page, width)
    if js:
        _screenshot(page, tmp_path, f"index-board-{width}.png")
    assert errors == []


def test_the_boards_dates_and_top_cause_are_the_latest_reports(
    open_page: Opener, site: Path, errors: list[str]
) -> None:
    page = open_page(site / "index.html", width=1280)
    row = page.locator('table.board tr[data-metric="revisit_rate"]')
    cells = {c: row.locator(f"td.{c}").inner_text() for c in ("opened", "began", "cause")}
    assert cells == {
        "opened": "Nov 11, 2024",
        "began": "Nov 12, 2024",
        "cause": "channel=app & device=android (78%)",
    }
    row.locator("a.title").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/2024-11-19/revisit_rate.html")
    facts = dict(
        zip(
            page.locator("table.facts th").all_inner_texts(),
            page.locator("table.facts td").all_inner_texts(),
            strict=True,
        )
    )
    assert facts["The change began"] == cells["began"]
    assert f"alert open since {cells['opened']};" in facts["Alert"]
    assert "(the change began on Nov 12)" in page.locator("p.headline").inner_text()
    assert errors == []


@pytest.mark.parametrize("width", [1280, 390])
def test_the_korean_board_and_a_korean_report_fit_a_phone(
    open_page: Opener,
    site: Path,
    errors: list[str],
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    width: int,
) -> None:
    korean = tmp_path_factory.mktemp("ko") / "reports"
    shutil.copytree(site, korean)
    write_index(korean, lang="ko")
    page = open_page(korean / "index.html", width=width)
    assert page.locator("h2").first.inner_text() == "지금 상태"
    assert page.locator("table.board td.state .badge").first.inner_text() == "심각 알림"
    _no_horizontal_scroll(page, width)
    _screenshot(page, tmp_path, f"index-board-ko-{width}.png")
    report = open_page(korean / "2024-11-19" / "revisit_ko.html", width=width)
    assert report.locator("table.facts").is_visible()
    _no_horizontal_scroll(report, width)
    _screenshot(report, tmp_path, f"report-ko-{width}.png")
    assert errors == []
