"""What customers say, in every format: themes, the not-significant flag, escaped quotes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from agent.model import Theme, ThemeTerm, Verbatim, Voice
from agent.report import ReportInput, email_report, write_reports

from . import XSS, day, report_input

APP = {"channel": "app", "device": "android"}
VOICE = Voice(
    segment=APP,
    comments_before=1200,
    comments_after=400,
    total_before=1200,
    total_after=9000,
    themes=[
        Theme("앱 꺼지다", [ThemeTerm("앱 꺼지다", 12, 96, 7.25), ThemeTerm("꺼지다", 15, 99, 7.0)],
              15, 99, 7.25, True),
        Theme(XSS, [ThemeTerm(XSS, 3, 5, 1.1)], 3, 5, 1.1, False),
    ],
    verbatims=[Verbatim("앱 꺼지다", f"앱이 자꾸 꺼져요 {XSS} [phone]")],
)  # fmt: skip


def with_voice(locale: str = "en") -> ReportInput:
    inp = report_input(day(11, 18))
    e = dataclasses.replace(inp.run.explanations[0], voice=[VOICE])
    run = dataclasses.replace(inp.run, explanations=[e])
    return dataclasses.replace(inp, run=run, locale=locale)  # type: ignore[arg-type]


def test_report_pages_show_themes_flags_and_escaped_quotes(tmp_path: Path) -> None:
    files = write_reports(with_voice(), tmp_path)
    html = files.html.read_text(encoding="utf-8")
    assert "What customers say" in html
    assert "channel=app &amp; device=android: 9,000 comments since the change began" in html
    assert "the newest 400 of 9,000 comments of a window were read" in html
    assert "15 (1.2%) → 99 (24.8%)" in html and "앱 꺼지다 12 → 96 (z 7.2)" in html
    assert "(not significant)" in html
    assert XSS not in html and "&lt;script&gt;" in html
    assert "“앱이 자꾸 꺼져요" in files.md.read_text(encoding="utf-8")
    causes = json.loads(files.json.read_text(encoding="utf-8"))["findings"][0]["causes"]
    assert causes[0]["comments"] == {
        "before": 1200, "after": 400, "total_before": 1200, "total_after": 9000
    }  # fmt: skip
    assert [t["label"] for t in causes[0]["themes"]] == ["앱 꺼지다", XSS]
    assert causes[0]["verbatims"] == [{"theme": "앱 꺼지다", "text": VOICE.verbatims[0].text}]
    assert causes[1]["comments"] is None and causes[1]["themes"] == []


def test_the_email_quotes_them_too_in_korean() -> None:
    mail = email_report(with_voice("ko"))
    for body in (mail.html, mail.text):
        assert "고객의 목소리" in body and "유의하지 않음" in body
        assert "앱이 자꾸 꺼져요" in body
    assert XSS not in mail.html
