"""The email-safe report: table layout, inlined CSS, CID images, size, escaping, text part."""

from __future__ import annotations

import dataclasses
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser

from agent.model import Cause
from agent.report import EmailReport, ReportInput, email_report
from agent.report.email import EMAIL_ROWS
from tests.report import XSS, day, report_input

PERIOD = day(3, 1)
CAUSE_CELL = re.compile(r"<td[^>]*>channel=partner-")


class _Tags(HTMLParser):
    """Collects (tag, attributes) of every start tag."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def with_causes(inp: ReportInput, n: int) -> ReportInput:
    """``inp`` whose finding has ``n`` causes (long segment labels, as real ones are)."""
    explanation = inp.run.explanations[0]
    template = explanation.causes[0]
    causes = [
        dataclasses.replace(
            template,
            segment={"channel": f"partner-{i:03d}", "device": "android", "region": "gyeonggi"},
            share=0.5 / (i + 1),
        )
        for i in range(n)
    ]
    run = dataclasses.replace(
        inp.run, explanations=[dataclasses.replace(explanation, causes=causes)]
    )
    return dataclasses.replace(inp, run=run)


def hostile() -> ReportInput:
    """A CRLF and a header in the metric title; ``XSS`` is already a cause's segment value."""
    return report_input(PERIOD, title="Revisit\r\nBcc: victim@example.com rate")


def test_the_layout_is_a_600px_presentation_table_without_flex_or_grid() -> None:
    report = email_report(report_input(PERIOD))
    found = tags(report.html)
    layout = [a for t, a in found if t == "table" and a.get("role") == "presentation"]
    assert [a.get("width") for a in layout] == ["100%", "600"]
    assert "display: flex" not in report.html and "display:flex" not in report.html
    assert "grid" not in report.html


def test_every_style_is_inline_and_no_style_or_link_element_is_left() -> None:
    report = email_report(report_input(PERIOD))
    found = tags(report.html)
    assert not [t for t, _ in found if t in {"style", "link"}]
    unstyled = [(t, a["class"]) for t, a in found if a.get("class") and not a.get("style")]
    assert unstyled == []
    headline = next(a for t, a in found if a.get("class") == "headline")
    assert "font-weight:bold" in (headline["style"] or "")


def test_every_cid_in_the_html_has_an_image_and_every_image_is_used() -> None:
    report = email_report(report_input(PERIOD))
    cids = set(re.findall(r'src="cid:([^"]+)"', report.html))
    assert cids == set(report.images)
    assert cids == {"revisit_rate.chart@cx-agent", "revisit_rate.causes-1@cx-agent"}
    png = report.images["revisit_rate.chart@cx-agent"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert "data:" not in report.html


def test_200_causes_stay_under_100_kb_with_an_and_more_row() -> None:
    report = email_report(with_causes(report_input(PERIOD), 200))
    assert len(report.html.encode()) < 100_000
    assert len(CAUSE_CELL.findall(report.html)) == EMAIL_ROWS
    assert f"… and {200 - EMAIL_ROWS} more" in report.html
    assert f"… and {200 - EMAIL_ROWS} more" in report.text


def test_ten_causes_are_all_shown_without_an_and_more_row() -> None:
    report = email_report(with_causes(report_input(PERIOD), EMAIL_ROWS))
    assert len(CAUSE_CELL.findall(report.html)) == EMAIL_ROWS
    assert "… and" not in report.text and "… and" not in report.html


def test_hostile_values_are_escaped_and_the_subject_is_one_line() -> None:
    report = email_report(hostile())
    assert XSS not in report.html
    assert "region=&lt;script&gt;alert(1)&lt;/script&gt;" in report.html
    assert "<script" not in report.html.lower()
    assert "\r" not in report.html
    assert report.subject == (
        "[critical] Revisit Bcc: victim@example.com rate fell 4.1 pts to 31.2% "
        "(the change began on Feb 23); "
        "78% of the change is channel=app & device=android."
    )


def test_the_text_part_carries_the_headline_and_the_top_causes() -> None:
    report = email_report(report_input(PERIOD))
    headline = (
        "Revisit rate fell 4.1 pts to 31.2% (the change began on Feb 23); "
        "78% of the change is channel=app & device=android."
    )
    assert report.text.startswith("Revisit rate — Mar 1, 2024 · revisit_rate · critical\n")
    assert f"\n{headline}\n" in report.text
    assert (
        "- channel=app & device=android: 36.0% → 29.0%; Contribution −3.2 pts; Share 78%; "
        "Confidence 99%\n" in report.text
    )
    assert f"- region={XSS}: 30.0% → 25.0%" in report.text  # plain text is not HTML-escaped
    assert "&lt;" not in report.text and "<td" not in report.text


def test_a_calm_run_says_so_in_subject_html_and_text() -> None:
    report = email_report(report_input(PERIOD, findings=False))
    calm = "No change detected: Revisit rate was 31.2% on Mar 1."
    assert report.subject == f"[no findings] {calm}"
    assert calm in report.html and calm in report.text
    assert "Nothing crossed a threshold" in report.text


def mime(report: EmailReport) -> EmailMessage:
    """text/plain + (text/html with its related PNGs) as multipart/alternative."""
    message = EmailMessage()
    message["Subject"] = report.subject
    message.set_content(report.text)
    message.add_alternative(report.html, subtype="html")
    html_part = message.get_payload()[1]
    for cid, png in report.images.items():
        html_part.add_related(png, "image", "png", cid=f"<{cid}>")
    return message


def test_the_variant_assembles_into_a_mime_message_that_parses_back() -> None:
    report = email_report(hostile())
    parsed = message_from_bytes(mime(report).as_bytes(), policy=policy.default)
    assert parsed["Subject"] == report.subject
    assert [part.get_content_type() for part in parsed.walk()] == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "image/png",
    ]
    image = next(p for p in parsed.walk() if p.get_content_type() == "image/png")
    assert image["Content-ID"] == "<revisit_rate.chart@cx-agent>"
    assert image.get_content() == report.images["revisit_rate.chart@cx-agent"]
    assert parsed["Bcc"] is None  # the CRLF in the title did not add a header
    html = parsed.get_body(preferencelist=("html",))
    text = parsed.get_body(preferencelist=("plain",))
    assert html is not None and html.get_content().rstrip("\n") == report.html
    assert text is not None and text.get_content() == report.text.replace("\r\n", "\n")


def test_causes_beyond_the_cut_are_not_in_the_text_part() -> None:
    inp = with_causes(report_input(PERIOD), EMAIL_ROWS + 1)
    last: Cause = inp.run.explanations[0].causes[-1]
    report = email_report(inp)
    assert last.segment["channel"] not in report.text
    assert "… and 1 more" in report.text


def test_many_findings_are_cut_shorter_to_stay_under_100_kb() -> None:
    inp = with_causes(report_input(PERIOD), 200)
    run = dataclasses.replace(inp.run, explanations=inp.run.explanations * 30)
    report = email_report(dataclasses.replace(inp, run=run))
    assert len(report.html.encode()) < 100_000
    assert "… and 25 more" in report.html  # findings: 5 of 30 shown
    assert report.html.count("… and 195 more") == 5  # causes: 5 of 200 per finding
    assert report.text.count("== Change point (critical) ==") == 5
