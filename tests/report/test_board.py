"""The status board's state of a metric agrees with its history: an alert stays on the
board through periods without a finding until its recovery is reported."""

from __future__ import annotations

import html
import re
from pathlib import Path

from agent.model import EpisodeStatus
from agent.report import write_index, write_reports

from . import day, report_input
from .test_index import in_episode


def _board(reports: Path) -> dict[str, str]:
    """The revisit-rate row of the board: ``kind`` (its state) and its cells' text by class."""
    page = write_index(reports).read_text(encoding="utf-8")
    board = page.split('<table class="board', 1)[1].split("</table>", 1)[0]
    pattern = r'<tr class="metric-state state-(\w+)" data-metric="revisit_rate">(.*?)</tr>'
    row = re.search(pattern, board, re.S)
    assert row
    cells = re.findall(r'<td class="(\w+)"[^>]*>(.*?)</td>', row[2], re.S)
    return {"kind": row[1]} | {k: _text(v) for k, v in cells}


def _text(cell: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())


def test_an_alert_without_a_finding_this_period_stays_on_the_board(tmp_path: Path) -> None:
    write_reports(in_episode(report_input(day(11, 18)), EpisodeStatus.NEW, 1), tmp_path)
    write_reports(in_episode(report_input(day(11, 19)), EpisodeStatus.ONGOING, 2), tmp_path)
    write_reports(report_input(day(11, 20), findings=False, value=0.33), tmp_path)
    row = _board(tmp_path)
    assert row["kind"] == "alert"
    assert row["state"] == (
        "critical alert last finding Nov 19, 2024; open until the value is back in its range"
    )
    assert (row["opened"], row["began"]) == ("Nov 11, 2024", "Nov 12, 2024")  # as on Nov 19
    assert row["cause"] == "channel=app & device=android (78%)"
    assert row["latest"] == "Nov 20, 2024"  # the link opens the latest report


def test_a_recovered_alert_leaves_the_board(tmp_path: Path) -> None:
    write_reports(in_episode(report_input(day(11, 18)), EpisodeStatus.NEW, 1), tmp_path)
    recovered = in_episode(
        report_input(day(11, 20)), EpisodeStatus.RECOVERED, 1, last_seen=day(11, 18)
    )
    write_reports(recovered, tmp_path)
    write_reports(report_input(day(11, 21), findings=False, value=0.35), tmp_path)
    row = _board(tmp_path)
    assert (row["kind"], row["state"]) == ("normal", "normal")
    assert (row["opened"], row["began"], row["cause"]) == ("", "", "")
