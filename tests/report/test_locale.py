"""Korean reports: the catalog, locale formatting, Korean particles, and Hangul in charts."""

from __future__ import annotations

import dataclasses
import json
import re
import string
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest
from matplotlib import font_manager

from agent.model import Note
from agent.report import ReportInput, write_reports
from agent.report.cause_charts import render_causes_chart, render_segments_chart
from agent.report.charts import HANGUL_FONT_FILE, hangul_font, render_chart
from agent.report.formatting import (
    format_change,
    format_date,
    format_delta,
    format_period,
    format_value,
)
from agent.report.messages import MESSAGES, fill
from tests.conftest import cx_agent
from tests.test_alerting import CONFIG, warehouse

from . import XSS, day, report_input

KO_HEADLINE = (
    "재방문율이 4.1%p 하락해 31.2%가 되었습니다 (변화 시작: 11월 11일). "
    "변화의 78%는 channel=app & device=android 세그먼트에서 발생했습니다."
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def korean_input() -> ReportInput:
    """The demo-like revisit-rate drop, as a Korean team configures it (Korean title;
    segment names stay as the warehouse has them)."""
    inp = report_input(day(11, 18), title="재방문율")
    low = Note(
        "reason_late_low_volume",
        {"day": day(11, 17), "volume": 820.0, "ratio": 0.31, "usual": 2650.0},
    )
    notes = [
        *inp.run.notes,
        Note("note_holidays", {"count": 3, "country": "KR"}),
        Note("note_not_judged", {"period": day(11, 16), "why": Note("why_holiday")}),
        Note("note_pending", {"reason": low, "periods": 1, "need": 2}),
    ]
    return dataclasses.replace(inp, run=dataclasses.replace(inp.run, notes=notes), locale="ko")


def fields(pattern: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}


def test_every_english_message_has_a_korean_one_with_the_same_fields() -> None:
    en, ko = MESSAGES["en"], MESSAGES["ko"]
    assert sorted(ko) == sorted(en)
    assert {k: fields(v) for k, v in ko.items()} == {k: fields(v) for k, v in en.items()}
    assert len(ko["months"].split()) == 12


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.312, "percent", "31.2%"),
        (112000.4, "currency", "112,000원"),
        (-1200, "currency", "−1,200원"),
        (1234567, "number", "1,234,567"),
        (float("nan"), "currency", "—"),
    ],
)
def test_korean_values(value: float, unit: str, text: str) -> None:
    assert format_value(value, unit, "ko") == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("delta", "unit", "text"),
    [(-0.041, "percent", "−4.1%p"), (1200, "currency", "+1,200원"), (-0.0004, "percent", "0.0%p")],
)
def test_korean_deltas(delta: float, unit: str, text: str) -> None:
    assert format_delta(delta, unit, "ko") == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("delta", "expected", "unit", "text"),
    [
        (-0.041, 0.353, "percent", "4.1%p"),
        (-11.7, 5.0, "score", "11.7점"),
        (-1200.0, 12000.0, "currency", "10.0%"),
    ],
)
def test_korean_changes(delta: float, expected: float, unit: str, text: str) -> None:
    assert format_change(delta, expected, unit, "ko") == text  # type: ignore[arg-type]


def test_korean_dates_and_periods() -> None:
    assert format_date(day(11, 18), "ko") == "11월 18일"
    assert format_date(day(11, 18), "ko", year=True) == "2024년 11월 18일"
    assert format_period(day(11, 18), "week", "ko") == "11월 18일 주"
    assert format_period(day(11, 1), "month", "ko") == "2024년 11월"
    assert format_period(day(11, 18), "week", "en") == "the week of Nov 18"


@pytest.mark.parametrize(
    ("word", "text"),
    [
        ("재방문율", "재방문율이 재방문율은 재방문율로"),  # a final ㄹ takes 로
        ("방문", "방문이 방문은 방문으로"),
        ("객단가", "객단가가 객단가는 객단가로"),
        ("31.2%", "31.2%가 31.2%는 31.2%로"),
        ("112,000원", "112,000원이 112,000원은 112,000원으로"),
        ("NPS", "NPS가 NPS는 NPS로"),
        ("Conversion", "Conversion이 Conversion은 Conversion으로"),
        ("—", "—이(가) —은(는) —(으)로"),  # no reading: the double form stays
    ],
)
def test_korean_particles_fit_the_word_before_them(word: str, text: str) -> None:
    assert fill("{w}이(가) {w}은(는) {w}(으)로", w=word) == text


class _Text(HTMLParser):
    """The text a reader sees: everything outside tags, scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._hidden += tag in {"style", "script", "title"}

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in {"style", "script", "title"}

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def _english_left(text: str) -> list[str]:
    """Latin words left once the warehouse's own names are taken out."""
    for name in ("revisit_rate", "channel=app & device=android", f"region={XSS}", "(other)"):
        text = text.replace(name, "")
    for dim in ("channel", "device", "region"):
        text = text.replace(dim, "")
    return re.findall(r"[A-Za-z]{2,}", text)


def test_korean_report_is_korean_throughout(tmp_path: Path) -> None:
    files = write_reports(korean_input(), tmp_path)
    html = files.html.read_text(encoding="utf-8")
    parser = _Text()
    parser.feed(html)
    visible = " ".join(parser.parts)
    assert '<html lang="ko">' in html
    assert KO_HEADLINE in visible
    assert "2024년 11월 18일" in visible and "원인" in visible and "−3.2%p" in visible
    assert _english_left(visible) == []
    markdown = files.md.read_text(encoding="utf-8")
    assert f"**{KO_HEADLINE}**" in markdown
    assert _english_left(re.sub(r"revisit_rate[.\w-]*png", "", markdown.replace("\\", ""))) == []
    assert json.loads(files.json.read_text(encoding="utf-8"))["headline"] == KO_HEADLINE


def test_matplotlib_resolves_the_hangul_font() -> None:
    family = hangul_font()
    if family is None:
        pytest.skip(f"{HANGUL_FONT_FILE} is not installed (Debian: apt-get install fonts-nanum)")
    found = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    assert family == "NanumGothic" and Path(found).name == HANGUL_FONT_FILE


def test_korean_chart_draws_every_glyph() -> None:
    if hangul_font() is None:
        pytest.skip(f"{HANGUL_FONT_FILE} is not installed (Debian: apt-get install fonts-nanum)")
    inp = korean_input()
    finding = inp.run.explanations[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pngs = [
            render_chart(inp),
            render_causes_chart(finding, inp),
            render_segments_chart(finding, inp),
        ]
    assert [str(w.message) for w in caught] == []  # no "Glyph … missing from font(s)"
    assert all(png is not None and png.startswith(PNG_SIGNATURE) for png in pngs)
    assert pngs[0] != render_chart(dataclasses.replace(inp, locale="en"))


def test_metrics_yaml_locale_ko_writes_korean_reports(tmp_path: Path) -> None:
    home = warehouse(tmp_path, "2026-10-30", "2026-10-31")
    (home / "metrics.yaml").write_text(CONFIG.replace("country: KR", "locale: ko\ncountry: KR"))
    assert cx_agent("run", "--once", "--as-of", "2026-10-30", cwd=home).code == 2
    folder = home / "reports" / "2026-10-30"
    headline = json.loads((folder / "conversion.json").read_text(encoding="utf-8"))["headline"]
    assert headline == (
        "channel=web 고객의 Conversion이 57.2% 하락해 0.04가 되었습니다 (변화 시작: 10월 30일)."
    )
    assert '<html lang="ko">' in (folder / "conversion.html").read_text(encoding="utf-8")
