"""write_index: every report on disk, newest first, with links that resolve."""

from __future__ import annotations

import re
from pathlib import Path

from agent.report import write_index, write_reports

from . import day, report_input


def _write_three(reports: Path) -> None:
    write_reports(report_input(day(11, 17), findings=False, value=0.35), reports)
    write_reports(report_input(day(11, 18)), reports)
    conversion = report_input(
        day(11, 18), metric="conversion", title="Conversion", findings=False, value=0.041
    )
    write_reports(conversion, reports)


def _rows(html: str, table: str) -> list[str]:
    body = html.split(f'<table class="{table}">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)[1:]  # skip the header row


def test_index_lists_runs_newest_first_with_working_links(tmp_path: Path) -> None:
    _write_three(tmp_path)
    index = write_index(tmp_path)
    assert index == tmp_path / "index.html"
    html = index.read_text(encoding="utf-8")
    runs = [re.findall(r'href="([^"]+)"', row)[0] for row in _rows(html, "runs")]
    assert runs == [
        "2024-11-18/conversion.html",
        "2024-11-18/revisit_rate.html",
        "2024-11-17/revisit_rate.html",
    ]
    for link in re.findall(r'href="([^"]+)"', html):
        assert (tmp_path / link).is_file(), link


def test_index_row_shows_severity_count_and_headline(tmp_path: Path) -> None:
    _write_three(tmp_path)
    rows = _rows(write_index(tmp_path).read_text(encoding="utf-8"), "runs")
    assert '<span class="badge badge-none">no findings</span>' in rows[0]
    assert '<td class="num">0</td>' in rows[0]
    assert "No change detected: Conversion was 4.1% on Nov 18." in rows[0]
    assert '<span class="badge badge-critical">critical</span>' in rows[1]
    assert '<td class="num">1</td>' in rows[1]
    assert "Revisit rate fell 4.1 pts to 31.2% since Nov 11;" in rows[1]


def test_index_has_a_history_per_metric(tmp_path: Path) -> None:
    _write_three(tmp_path)
    html = write_index(tmp_path).read_text(encoding="utf-8")
    history = html.split("History per metric", 1)[1]
    sections = re.findall(r'<h3 id="metric-([^"]+)">([^<]+)</h3>', history)
    assert sections == [("conversion", "Conversion"), ("revisit_rate", "Revisit rate")]
    revisit = history.split('id="metric-revisit_rate"', 1)[1]
    values = re.findall(r'<td class="num">([\d.]+%)</td>', revisit)
    assert values == ["31.2%", "35.0%"]


def test_unreadable_files_are_named_not_fatal(tmp_path: Path) -> None:
    _write_three(tmp_path)
    (tmp_path / "2024-11-18" / "broken.json").write_text("{", encoding="utf-8")
    html = write_index(tmp_path).read_text(encoding="utf-8")
    assert "Could not read: 2024-11-18/broken.json" in html
    assert len(_rows(html, "runs")) == 3


def test_empty_reports_dir_gives_an_empty_index(tmp_path: Path) -> None:
    html = write_index(tmp_path / "reports").read_text(encoding="utf-8")
    assert "No reports yet." in html
