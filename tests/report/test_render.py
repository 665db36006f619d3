"""write_reports: the JSON contract, the wording, escaping, and all-or-nothing writes."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shutil
import struct
from pathlib import Path

import pytest

from agent.errors import ReportError
from agent.model import Direction, Explanation
from agent.report import ReportFiles, write_reports
from agent.report.context import MESSAGES, band_text, finding_headline
from agent.report.formatting import format_change, format_delta, format_value, md_escape
from agent.report.render import default_templates_dir

from . import XSS, day, report_input, revisit_finding

REPO = Path(__file__).resolve().parents[2]
HEADLINE = (
    "Revisit rate fell 4.1 pts to 31.2% (the change began on Nov 11); "
    "78% of the change is channel=app & device=android."
)
NO_VOICE = {"comments": None, "themes": [], "verbatims": []}
"""A cause's voice fields when the metric has no comments."""


@pytest.fixture
def files(tmp_path: Path) -> ReportFiles:
    return write_reports(report_input(day(11, 18)), tmp_path)


def test_files_are_named_by_date_and_metric(files: ReportFiles, tmp_path: Path) -> None:
    folder = tmp_path / "2024-11-18"
    assert files == ReportFiles(
        html=folder / "revisit_rate.html",
        md=folder / "revisit_rate.md",
        json=folder / "revisit_rate.json",
        png=folder / "revisit_rate.png",
        charts=(folder / "revisit_rate.causes-1.png", folder / "revisit_rate.segments-1.png"),
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        "revisit_rate.causes-1.png",
        "revisit_rate.html",
        "revisit_rate.json",
        "revisit_rate.md",
        "revisit_rate.png",
        "revisit_rate.segments-1.png",
    ]


def test_json_is_the_documented_contract(files: ReportFiles) -> None:
    cause = {
        "segment": {"channel": "app", "device": "android"},
        "share": 0.78,
        "value_before": 0.36,
        "value_after": 0.29,
        "size_before": 12000.0,
        "size_after": 12500.0,
        "rate_effect": -0.03,
        "mix_effect": -0.002,
        "confidence": 0.99,
        "contribution": -0.03 + -0.002,
        **NO_VOICE,
    }
    xss_cause = {
        "segment": {"region": XSS},
        "share": 0.1,
        "value_before": 0.3,
        "value_after": 0.25,
        "size_before": 800.0,
        "size_after": 790.0,
        "rate_effect": -0.004,
        "mix_effect": 0.0,
        "confidence": 0.6,
        "contribution": -0.004,
        **NO_VOICE,
    }
    finding = {
        "metric": "revisit_rate",
        "segment": {},
        "kind": "change_point",
        "period": "2024-11-18T00:00:00+09:00",
        "value": 0.312,
        "expected": 0.353,
        "lower": 0.333,
        "upper": 0.373,
        "direction": "down",
        "severity": "critical",
        "score": 4.25,
        "since": "2024-11-11T00:00:00+09:00",
        "reason": "the level fell from 35.3% to 31.2%, starting Nov 11 (4.2 sigma)",
        "reason_code": {
            "code": "reason_change_point_down",
            "params": {
                "before": 0.353,
                "after": 0.312,
                "since": "2024-11-11T00:00:00+09:00",
                "sigma": 4.25,
            },
        },
        "p_value": None,
        "causes": [cause, xss_cause],
        "explained_share": 0.88,
        "episode": None,
        "checked": [],
        "ruled_out": [],
        "related": [],
        "events": [],
        "factors": [],
        "exports": [],
        "feedback_links": {},
        "voice": None,
    }
    report = json.loads(files.json.read_text(encoding="utf-8"))
    recent = report.pop("recent")  # the last 12 days, for the index's sparkline
    assert [r["period"] for r in recent] == [
        f"2024-11-{dom:02d}T00:00:00+09:00" for dom in range(7, 19)
    ]
    assert [r["value"] for r in recent] == [0.353] * 4 + [0.312] * 8
    assert all(r["expected"] == 0.353 for r in recent)
    assert all((r["lower"], r["upper"]) == pytest.approx((0.333, 0.373)) for r in recent)
    assert report == {
        "schema": "cx-agent/report@1",
        "metric": "revisit_rate",
        "title": "Revisit rate",
        "unit": "percent",
        "grain": "day",
        "period": "2024-11-18T00:00:00+09:00",
        "value": 0.312,
        "severity": "critical",
        "findings": [finding],
        "notes": ["Rare values of device are folded into (other)."],
        "note_codes": [
            {"code": "note_folded", "params": {"dimension": "device", "other": "(other)"}}
        ],
        "headline": HEADLINE,
        "next_steps": [],
    }


def test_json_writes_null_for_missing_numbers(tmp_path: Path) -> None:
    inp = report_input(day(11, 18))
    e = inp.run.explanations[0]
    no_band = dataclasses.replace(e.finding, lower=float("nan"), upper=float("inf"))
    run = dataclasses.replace(inp.run, explanations=[dataclasses.replace(e, finding=no_band)])
    files = write_reports(dataclasses.replace(inp, run=run), tmp_path)
    finding = json.loads(files.json.read_text(encoding="utf-8"))["findings"][0]
    assert (finding["lower"], finding["upper"]) == (None, None)


def test_markdown_has_headline_and_cause_table(files: ReportFiles) -> None:
    md = files.md.read_text(encoding="utf-8")
    assert f"**{HEADLINE}**" in md
    assert "![Revisit rate: value against the expected range over the last 90 periods]" in md
    assert (
        "| channel=app & device=android | 36.0% → 29.0% | 12,000 → 12,500 "
        "| −3.2 pts | −3.0 pts | −0.2 pts | 78% | 99% |"
    ) in md
    assert "Explained by these segments: 88% · Other segments: 12%" in md
    assert "- Rare values of device are folded into (other)." in md


def test_html_has_headline_chart_and_causes(files: ReportFiles) -> None:
    html = files.html.read_text(encoding="utf-8")
    assert HEADLINE.replace("&", "&amp;") in html
    srcs = re.findall(r'<img class="chart" src="([^"]+)"', html)
    assert [files.html.parent / src for src in srcs] == [files.png, *files.charts]
    chart = files.png
    header = chart.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1600, 600)  # 8×3 in at 2× (200 dpi)
    assert re.search(r"<td>channel=app &amp; device=android</td><td[^>]*>36.0% → 29.0%</td>", html)
    assert '<span class="badge badge-critical">critical</span>' in html
    assert "<td>35.3% (Expected range: 33.3% – 37.3%)</td>" in html


def test_segment_names_show_as_text_not_markup(files: ReportFiles) -> None:
    html = files.html.read_text(encoding="utf-8")
    md = files.md.read_text(encoding="utf-8")
    assert "region=&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "| region=\\<script\\>alert(1)\\</script\\> |" in md
    for text in (html, md):
        assert "<script>" not in text


def test_no_finding_run_says_no_change(tmp_path: Path) -> None:
    files = write_reports(report_input(day(11, 18), findings=False, value=0.35), tmp_path)
    headline = "No change detected: Revisit rate was 35.0% on Nov 18."
    report = json.loads(files.json.read_text(encoding="utf-8"))
    assert (report["findings"], report["severity"], report["headline"]) == ([], None, headline)
    html = files.html.read_text(encoding="utf-8")
    assert headline in html
    assert '<span class="badge badge-none">no findings</span>' in html
    assert "Causes" not in html
    assert f"**{headline}**" in files.md.read_text(encoding="utf-8")


def test_the_playbook_says_what_to_do_next_when_something_moved(tmp_path: Path) -> None:
    playbook = "Check the app release notes.\n\nAsk the <b>mobile</b> team\nto roll back."
    moved = dataclasses.replace(report_input(day(11, 18)), playbook=playbook)
    files = write_reports(moved, tmp_path / "moved")
    html = files.html.read_text(encoding="utf-8")
    assert "<h2>What to do next</h2>" in html
    assert "<li>Ask the &lt;b&gt;mobile&lt;/b&gt; team to roll back.</li>" in html
    assert "## What to do next\n\n- Check the app release notes." in files.md.read_text()
    calm = dataclasses.replace(report_input(day(11, 18), findings=False), playbook=playbook)
    assert "What to do next" not in write_reports(calm, tmp_path / "calm").html.read_text()


def test_a_broken_template_writes_nothing(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(default_templates_dir(), templates)
    (templates / "report.html.j2").write_text("{{ no_such_field }}", encoding="utf-8")
    with pytest.raises(ReportError, match="report.html.j2: template failed"):
        write_reports(report_input(day(11, 18)), tmp_path / "reports", templates_dir=templates)
    assert not (tmp_path / "reports").exists()


def test_rewriting_a_report_replaces_it_whole(files: ReportFiles, tmp_path: Path) -> None:
    again = write_reports(report_input(day(11, 18), findings=False, value=0.35), tmp_path)
    assert again == dataclasses.replace(files, charts=())
    assert len(list(files.json.parent.iterdir())) == 4  # no temp files, no stale charts
    assert json.loads(again.json.read_text(encoding="utf-8"))["findings"] == []


def test_default_templates_dir_is_the_repo_templates() -> None:
    assert default_templates_dir() == REPO / "templates"
    assert (default_templates_dir() / "report.html.j2").is_file()


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.312, "percent", "31.2%"),
        (-0.0004, "percent", "0.0%"),
        (12300.4, "currency", "₩12,300"),
        (-12300, "currency", "−₩12,300"),
        (1234567, "number", "1,234,567"),
        (3.5, "number", "3.5"),
        (42, "score", "42.0"),
        (float("nan"), "number", "—"),
        (None, "percent", "—"),
    ],
)
def test_format_value(value: float | None, unit: str, text: str) -> None:
    assert format_value(value, unit) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("delta", "unit", "text"),
    [(-0.021, "percent", "−2.1 pts"), (1200, "currency", "+₩1,200"), (0.0, "number", "0")],
)
def test_format_delta(delta: float, unit: str, text: str) -> None:
    assert format_delta(delta, unit) == text  # type: ignore[arg-type]


def test_md_escape_neutralises_markup() -> None:
    assert md_escape("a|b *c* [d](e) #f\nnext") == r"a\|b \*c\* \[d\](e) \#f next"


def _headline(e: Explanation, **changes: object) -> str:
    inp = dataclasses.replace(report_input(day(11, 18)), **changes)  # type: ignore[arg-type]
    return finding_headline(e, inp, MESSAGES["en"])


def test_headline_uses_relative_change_outside_percent_units() -> None:
    e = revisit_finding(day(11, 18))
    f = dataclasses.replace(
        e.finding, value=13530.0, expected=12300.0, direction=Direction.UP, segment={"tier": "vip"}
    )
    aov = dataclasses.replace(e, finding=f, causes=[])
    assert _headline(aov, unit="currency") == (
        "Revisit rate (tier=vip) rose 10.0% to ₩13,530 (the change began on Nov 11)."
    )


def test_headline_says_when_the_change_began_in_the_metrics_periods() -> None:
    e = revisit_finding(day(11, 18))
    one_day = dataclasses.replace(e, finding=dataclasses.replace(e.finding, since=day(11, 18)))
    assert _headline(one_day).startswith(
        "Revisit rate fell 4.1 pts to 31.2% (the change began on Nov 18);"
    )
    assert _headline(e, grain="week").startswith(
        "Revisit rate fell 4.1 pts to 31.2% (the change began in the week of Nov 11);"
    )
    assert _headline(e, grain="month").startswith(
        "Revisit rate fell 4.1 pts to 31.2% (the change began in Nov 2024);"
    )


@pytest.mark.parametrize(
    ("delta", "expected", "unit", "text"),
    [
        (-0.041, 0.353, "percent", "4.1 pts"),
        (-11.7, 5.0, "score", "11.7 pts"),  # NPS: points, never "233%" of a level near 0
        (-1200.0, 12000.0, "currency", "10.0%"),
        (5.0, 0.0, "number", None),
    ],
)
def test_format_change(delta: float, expected: float, unit: str, text: str | None) -> None:
    assert format_change(delta, expected, unit) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lower", "upper", "text"),
    [(0.3, 0.4, "30.0% – 40.0%"), (0.35, math.inf, "≥ 35.0%"), (-math.inf, 0.3, "≤ 30.0%")],
)
def test_band_text_for_one_sided_limits(lower: float, upper: float, text: str) -> None:
    assert band_text(lower, upper, "percent") == text
