"""Terms a CX manager may not know are explained where they are used: the expected range,
the two dates, rate effect, mix effect and confidence, in the HTML report (a legend and
the column's tooltip), the Markdown, and the email's HTML and text parts, en and ko."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path

import pytest

from agent.model import EpisodeStatus
from agent.report import email_report, write_reports
from agent.report.messages import MESSAGES

from . import day, report_input
from .test_index import in_episode

EVERYWHERE = ("term_band", "term_change_began", "term_alert_open", "term_confidence")
TABLES = ("term_rate_effect", "term_mix_effect")
"""Explained where a table shows them: the HTML report, its Markdown and the HTML email
(the text email lists causes without the two effects)."""


def _text(page: str) -> str:
    """What a reader sees of an HTML page: its text without tags, entities decoded."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_every_term_is_explained_in_every_output(tmp_path: Path, locale: str) -> None:
    inp = replace(in_episode(report_input(day(11, 18)), EpisodeStatus.NEW, 1), locale=locale)
    files = write_reports(inp, tmp_path)
    page = files.html.read_text(encoding="utf-8")
    md = re.sub(r"\s+", " ", files.md.read_text(encoding="utf-8"))
    tooltips = {html.unescape(t) for t in re.findall(r'title="([^"]*)"', page)}
    mail = email_report(inp)
    msg = MESSAGES[locale]
    for key in EVERYWHERE + TABLES:
        line = msg[key]
        assert line in _text(page), (key, "html")
        assert line in tooltips, (key, "tooltip")
        assert line in md, (key, "markdown")
        assert line in _text(mail.html), (key, "email")
    text = re.sub(r"\s+", " ", mail.text)
    assert all(msg[key] in text for key in EVERYWHERE), "text email"
    assert msg["rate_effect"] not in text  # not used there, so not explained there


def test_the_korean_explanations_are_korean() -> None:
    for key in EVERYWHERE + TABLES:
        assert re.search("[가-힣]", MESSAGES["ko"][key]), key
        assert MESSAGES["ko"][key] != MESSAGES["en"][key]
