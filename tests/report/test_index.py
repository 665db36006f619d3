"""write_index: every run and finding on disk, newest first, links that resolve, filter
controls, and each metric's episodes with links between the reports of one episode."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from agent.model import Direction, Episode, EpisodeStatus, FindingKind, Severity
from agent.report import ReportInput, write_index, write_reports

from . import day, report_input


def in_episode(
    inp: ReportInput,
    status: EpisodeStatus,
    periods: int,
    *,
    since: datetime | None = None,
    last_seen: datetime | None = None,
) -> ReportInput:
    """``inp`` with its finding in an episode of the whole population (default: since Nov 11,
    last seen in the report's period); a ``recovered`` status makes it the closing finding."""
    explanation = inp.run.explanations[0]
    episode = Episode(
        metric=inp.run.metric,
        segment={},
        status=status,
        since=since or day(11, 11),
        last_seen=last_seen or inp.run.period,
        periods=periods,
        severity=Severity.CRITICAL,
        direction=Direction.DOWN,
    )
    finding = explanation.finding
    if status == EpisodeStatus.RECOVERED:
        finding = replace(finding, kind=FindingKind.RECOVERED, severity=Severity.INFO)
    closing = replace(explanation, finding=finding, episode=episode)
    return replace(inp, run=replace(inp.run, explanations=[closing]))


def _write_three(reports: Path) -> None:
    write_reports(report_input(day(11, 17), findings=False, value=0.35), reports)
    write_reports(report_input(day(11, 18)), reports)
    conversion = report_input(
        day(11, 18), metric="conversion", title="Conversion", findings=False, value=0.041
    )
    write_reports(conversion, reports)


def _write_two_episodes(reports: Path) -> None:
    """Revisit rate: an episode Nov 18–19 that recovers on Nov 20, a new one on Nov 22."""
    write_reports(report_input(day(11, 17), findings=False, value=0.35), reports)
    write_reports(in_episode(report_input(day(11, 18)), EpisodeStatus.NEW, 1), reports)
    write_reports(in_episode(report_input(day(11, 19)), EpisodeStatus.ONGOING, 2), reports)
    recovered = in_episode(
        report_input(day(11, 20)), EpisodeStatus.RECOVERED, 2, last_seen=day(11, 19)
    )
    write_reports(recovered, reports)
    again = in_episode(report_input(day(11, 22)), EpisodeStatus.NEW, 1, since=day(11, 22))
    write_reports(again, reports)


def _runs(html: str) -> list[str]:
    return re.findall(r'<tbody class="run"(.*?)</tbody>', html, flags=re.S)


def _cells(row: str) -> list[str]:
    """A row's cells as text: tags dropped, whitespace squeezed."""
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", c).split()) for c in cells]


def _episodes(html: str, metric: str) -> list[list[str]]:
    section = html.split(f'<h3 id="metric-{metric}">', 1)[1].split("</section>", 1)[0]
    return [_cells(row) for row in re.findall(r'<tr class="episode".*?</tr>', section, re.S)]


def test_index_lists_runs_newest_first_with_working_links(tmp_path: Path) -> None:
    _write_three(tmp_path)
    index = write_index(tmp_path)
    assert index == tmp_path / "index.html"
    html = index.read_text(encoding="utf-8")
    runs = [re.findall(r'href="([^"]+)"', run)[0] for run in _runs(html)]
    assert runs == [
        "2024-11-18/conversion.html",
        "2024-11-18/revisit_rate.html",
        "2024-11-17/revisit_rate.html",
    ]
    for link in re.findall(r'href="([^"]+)"', html):
        assert (tmp_path / link).is_file(), link


def test_index_row_shows_severity_count_headline_and_each_finding(tmp_path: Path) -> None:
    _write_three(tmp_path)
    runs = _runs(write_index(tmp_path).read_text(encoding="utf-8"))
    assert runs[0].startswith(' data-metric="conversion" data-severity="none">')
    assert _cells(runs[0]) == [
        "Nov 18, 2024",
        "Conversion",
        "no findings",
        "0",
        "No change detected: Conversion was 4.1% on Nov 18.",
    ]
    assert runs[1].startswith(' data-metric="revisit_rate" data-severity="critical">')
    run, finding = runs[1].split('<tr class="finding"')
    assert _cells(run)[:4] == ["Nov 18, 2024", "Revisit rate", "critical", "1"]
    assert _cells(run)[4].startswith(
        "Revisit rate fell 4.1 pts to 31.2% (the change began on Nov 11);"
    )
    assert _cells(finding) == ["", "Change point", "critical", "", "all customers"]


def test_episodes_are_told_apart_and_listed_newest_first(tmp_path: Path) -> None:
    _write_two_episodes(tmp_path)
    html = write_index(tmp_path).read_text(encoding="utf-8")
    assert _episodes(html, "revisit_rate") == [
        [
            "all customers",
            "Nov 22, 2024 → Nov 22, 2024",  # the alert: open since → last seen
            "Nov 15, 2024",  # the change began, as its latest report says
            "open",
            "critical",
            "first Nov 22, 2024 · 1 report",
        ],
        [
            "all customers",
            "Nov 11, 2024 → Nov 19, 2024",
            "Nov 12, 2024",  # the Nov 19 report's; the Nov 20 one tells the recovery
            "recovered Nov 20, 2024",
            "critical",
            "first Nov 18, 2024 · latest Nov 20, 2024 · 3 reports",
        ],
    ]
    section = html.split('<h3 id="metric-revisit_rate">', 1)[1]
    links = re.findall(r'<tr class="episode".*?</tr>', section, re.S)[1]
    assert re.findall(r'href="([^"]+)"', links) == [
        "2024-11-18/revisit_rate.html",
        "2024-11-20/revisit_rate.html",
    ]


def test_each_finding_links_the_previous_report_of_its_episode(tmp_path: Path) -> None:
    _write_two_episodes(tmp_path)
    runs = _runs(write_index(tmp_path).read_text(encoding="utf-8"))
    previous = [re.findall(r'class="previous" href="([^"]+)"', run) for run in runs]
    # Nov 22 starts anew; Nov 20 and 19 continue the episode; Nov 18 opened it.
    assert previous == [
        [],
        ["2024-11-19/revisit_rate.html"],
        ["2024-11-18/revisit_rate.html"],
        [],
        [],
    ]
    alerts = [_cells(run.split('<tr class="finding"')[1])[4] for run in runs[:4]]
    assert alerts == [
        "all customers · new alert, open since Nov 22, 2024",
        "all customers · closed: back to normal (alert open since Nov 11, 2024)"
        " · previous report: Nov 19, 2024",
        "all customers · ongoing, alert open since Nov 11, 2024; 2 periods with findings"
        " · previous report: Nov 18, 2024",
        "all customers · new alert, open since Nov 11, 2024",
    ]


def test_findings_without_an_episode_group_by_overlapping_moves(tmp_path: Path) -> None:
    """Reports written before episodes were tracked: a move that began after the last
    finding is a new episode."""
    for month, dom in ((11, 18), (11, 19), (11, 30)):
        write_reports(report_input(day(month, dom)), tmp_path)  # since: a week before
    html = write_index(tmp_path).read_text(encoding="utf-8")
    assert [row[1:4] + row[5:] for row in _episodes(html, "revisit_rate")] == [
        ["Nov 23, 2024 → Nov 30, 2024", "Nov 23, 2024", "", "first Nov 30, 2024 · 1 report"],
        [
            "Nov 11, 2024 → Nov 19, 2024",
            "Nov 12, 2024",
            "",
            "first Nov 18, 2024 · latest Nov 19, 2024 · 2 reports",
        ],
    ]


def test_filters_are_offered_per_metric_and_severity_but_hidden_without_script(
    tmp_path: Path,
) -> None:
    _write_three(tmp_path)
    html = write_index(tmp_path).read_text(encoding="utf-8")
    assert '<form id="filters" class="muted" style="margin: 8px 0 0" hidden>' in html
    options = re.findall(r'<option value="([^"]*)">([^<]+)</option>', html)
    assert options == [
        ("", "all metrics"),
        ("conversion", "Conversion"),
        ("revisit_rate", "Revisit rate"),
        ("", "all severities"),
        ("critical", "critical"),
        ("warning", "warning"),
        ("info", "info"),
        ("none", "no findings"),
    ]
    assert "<script>" in html


def test_index_in_korean(tmp_path: Path) -> None:
    _write_two_episodes(tmp_path)
    html = write_index(tmp_path, lang="ko").read_text(encoding="utf-8")
    assert '<html lang="ko">' in html
    assert _episodes(html, "revisit_rate")[1][3:] == [
        "2024년 11월 20일 회복",
        "심각",
        "처음 2024년 11월 18일 · 최근 2024년 11월 20일 · 3건",
    ]


def test_unreadable_files_are_named_not_fatal(tmp_path: Path) -> None:
    _write_three(tmp_path)
    (tmp_path / "2024-11-18" / "broken.json").write_text("{", encoding="utf-8")
    html = write_index(tmp_path).read_text(encoding="utf-8")
    assert "Could not read: 2024-11-18/broken.json" in html
    assert len(_runs(html)) == 3


def test_empty_reports_dir_gives_an_empty_index(tmp_path: Path) -> None:
    html = write_index(tmp_path / "reports").read_text(encoding="utf-8")
    assert "No reports yet." in html
    assert "<script>" not in html and "<select" not in html
