"""Detector reasons and data notes worded per locale; factors, customer lists and feedback
links rendered when a finding has them."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.dates import num2date
from matplotlib.figure import Figure

from agent.model import (
    CustomerExport,
    Direction,
    Episode,
    EpisodeStatus,
    FactorMove,
    FindingKind,
    Note,
)
from agent.report import email_report, write_reports
from agent.report.cause_charts import render_causes_chart, render_segments_chart, total_change
from agent.report.charts import shade_episode
from agent.report.wording import Wording

from . import SEOUL, XSS, day, report_input

WEEK = day(11, 11)


@pytest.mark.parametrize(
    ("note", "en", "ko"),
    [
        (
            Note("reason_change_down", {"moved": 0.1004, "against": "previous_day", "max": 0.1}),
            "fell 10.04% vs the previous day (limit 10%)",
            "전날 대비 10.04% 하락했습니다 (한도 10%)",
        ),
        (
            Note("reason_limit_below", {"value": 0.33, "limit": 0.35}),
            "33.0% is below the limit of 35.0%",
            "33.0%로 하한 35.0%보다 낮습니다",
        ),
        (
            Note("reason_late_incomplete", {"day": WEEK, "newest": day(11, 10).replace(hour=23)}),
            "data for Nov 11 is incomplete: the newest row is from Nov 10, 2024 23:00",
            "11월 11일 데이터가 아직 다 들어오지 않았습니다: "
            "가장 최근 행은 2024년 11월 10일 23:00의 것입니다",
        ),
        (
            Note(
                "note_pending", {"reason": Note("reason_recovered_late"), "periods": 1, "need": 2}
            ),
            "data arrives on time again — not alerted yet: seen in 1 of the 2 periods in a row "
            "the metric needs to alert.",
            "데이터가 다시 제때 들어옵니다 — 아직 알림 전: 알림에 필요한 연속 2개 기간 중 "
            "1개 기간에서 확인됨.",
        ),
        (
            Note(
                "note_below_warning",
                {
                    "reason": Note("reason_limit_below", {"value": 0.33, "limit": 0.35}),
                    "severity": "info",
                },
            ),  # fmt: skip
            "33.0% is below the limit of 35.0% — not alerted: it stays below warning (info), "
            "so it is shown here and not sent.",
            "33.0%로 하한 35.0%보다 낮습니다 — 알림 없음: 경고 수준에 미치지 않아(참고) "
            "보고서에만 표시하고 보내지 않습니다.",
        ),
        (
            Note("note_not_judged", {"period": WEEK, "why": Note("why_holiday")}),
            "Nov 11 is not judged: public holidays shape it.",
            "11월 11일은 판단하지 않았습니다: 공휴일의 영향을 받은 기간입니다.",
        ),
        (Note("reason_from_a_newer_stage", {"x": 1.0}), "reason_from_a_newer_stage x=1.0", None),
    ],
)
def test_notes_are_worded_in_the_readers_language(note: Note, en: str, ko: str | None) -> None:
    assert Wording("en", "percent", "day")(note) == en
    assert Wording("ko", "percent", "day")(note) == (ko or en)


FACTORS = [
    FactorMove("aov", "Average order value", 41000.0, 40500.0, 0.1, "currency"),
    FactorMove("conversion", "Conversion", 0.041, 0.033, 0.9, "percent"),
]
EXPORT = CustomerExport({"region": XSS}, "2024-11-18/revisit_rate-region.csv", 1234, ["tier"])
LINKS = {
    "expected": "http://127.0.0.1:8765/f?t=abc&label=expected",
    "true": "http://127.0.0.1:8765/f?t=abc&label=true",
    "false": "javascript:alert(1)",  # not a web link: left out
}


def with_parts():
    inp = report_input(day(11, 18))
    [e] = inp.run.explanations
    e = dataclasses.replace(e, factors=FACTORS, exports=[EXPORT], feedback_links=LINKS)
    return dataclasses.replace(inp, run=dataclasses.replace(inp.run, explanations=[e]))


def test_the_factor_that_moved_comes_first_before_the_causes(tmp_path: Path) -> None:
    html = write_reports(with_parts(), tmp_path).html.read_text(encoding="utf-8")
    rows = re.findall(r'<table class="factors">(.*?)</table>', html, re.S)[0]
    assert re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td>", rows) == [
        ("Conversion", "4.1% → 3.3%"),
        ("Average order value", "₩41,000 → ₩40,500"),
    ]
    assert html.index("Which factor moved") < html.index("<h3>Causes</h3>")


def test_customer_lists_and_feedback_links_show_safely(tmp_path: Path) -> None:
    files = write_reports(with_parts(), tmp_path)
    html = files.html.read_text(encoding="utf-8")
    md = files.md.read_text(encoding="utf-8")
    assert (
        '<li><a href="../2024-11-18/revisit_rate-region.csv">revisit_rate-region.csv</a> — '
        "region=&lt;script&gt;alert(1)&lt;/script&gt;: 1,234 customers</li>"
    ) in html
    verdicts = re.findall(r'<a class="verdict" href="([^"]+)" rel="nofollow">([^<]+)</a>', html)
    assert verdicts == [
        ("http://127.0.0.1:8765/f?t=abc&amp;label=true", "Yes, a real problem"),
        ("http://127.0.0.1:8765/f?t=abc&amp;label=expected", "Expected (planned)"),
    ]
    assert "javascript:" not in html and "javascript:" not in md
    assert (
        "Was this alert useful? [Yes, a real problem](http://127.0.0.1:8765/f?t=abc&label=true)"
        in md
    )
    assert "<script>" not in html and "<script>" not in md


def test_the_email_shows_the_parts_and_stays_self_contained() -> None:
    report = email_report(with_parts())
    assert len(report.html.encode()) < 100_000
    assert set(re.findall(r'src="cid:([^"]+)"', report.html)) == set(report.images)
    assert "Average order value" in report.html and "Average order value" in report.text
    assert "revisit_rate-region.csv — region=&lt;script&gt;" in report.html
    assert 'href="../' not in report.html  # file links only work next to the report
    assert "- Yes, a real problem: http://127.0.0.1:8765/f?t=abc&label=true" in report.text


def test_charts_draw_any_segment_name_as_plain_text() -> None:
    inp = report_input(day(11, 18))
    [e] = inp.run.explanations
    odd = {"region": "$\\frac{1}{0}$ " + XSS + " " + "x" * 80}
    causes = [dataclasses.replace(c, segment=odd) for c in e.causes[:1]]
    e = dataclasses.replace(e, causes=causes)
    inp = dataclasses.replace(inp, segments=[(odd, inp.segments[0][1])])
    for png in (render_causes_chart(e, inp), render_segments_chart(e, inp)):
        assert png is not None and png.startswith(b"\x89PNG")
    assert render_causes_chart(dataclasses.replace(e, causes=[]), inp) is None


def test_the_causes_chart_total_is_what_the_shares_are_shares_of() -> None:
    [e] = report_input(day(11, 18)).run.explanations
    assert total_change(e) == pytest.approx(-0.032 / 0.78)
    no_causes = dataclasses.replace(e, causes=[])
    assert total_change(no_causes) == pytest.approx(0.312 - 0.353)


def test_a_change_points_line_marks_its_onset_and_the_shade_its_whole_episode() -> None:
    # the episode began with an earlier finding (Nov 4); the change itself since Nov 11
    [e] = report_input(day(11, 18)).run.explanations
    finding = dataclasses.replace(e.finding, kind=FindingKind.CHANGE_POINT, since=day(11, 11))
    episode = Episode(
        "revisit_rate", {}, EpisodeStatus.ONGOING, day(11, 4), day(11, 18), 3,
        finding.severity, Direction.DOWN,
    )  # fmt: skip
    ax = Figure().subplots()
    assert shade_episode(ax, dataclasses.replace(e, finding=finding, episode=episode), SEOUL, None)
    [line] = ax.get_lines()
    assert pd.Timestamp(line.get_xdata()[0]).date() == day(11, 11).date()
    [shade] = ax.patches
    assert num2date(shade.get_x()).date() == day(11, 4).date()
