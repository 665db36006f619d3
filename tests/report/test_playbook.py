"""Playbooks: steps per cause pattern with the cause's numbers filled in, checked at load."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from agent.config import load_config
from agent.errors import ConfigError
from agent.model import EpisodeStatus
from agent.report import NextStep, PlaybookEntry, next_steps, write_reports
from agent.report.playbook import Link
from tests.config.test_load import GOOD, write

from . import XSS, day, report_input
from .test_index import in_episode

ANDROID = {"channel": "app", "device": "android"}


def entries(*items: dict) -> list[PlaybookEntry]:
    return [PlaybookEntry.model_validate(item) for item in items]


def steps(playbook: list[PlaybookEntry], locale: str = "en") -> list[NextStep]:
    inp = report_input(day(11, 18))
    return next_steps(playbook, inp.run, unit="percent", grain="day", locale=locale)


def test_an_entry_per_dimension_speaks_of_each_cause_with_that_dimension() -> None:
    playbook = entries(
        {
            "when": {"dimension": "device"},
            "text": "Call the {{ cause.dims.device }} team: {{ cause.segment }} went from "
            "{{ cause.before }} to {{ cause.after }} ({{ cause.share }} of the change).",
            "links": [{"title": "Crash dashboard", "url": "https://example.com/crashes"}],
        },
        {"when": {"dimension": "tier"}, "text": "Never shown: no cause has a tier."},
    )
    assert steps(playbook) == [
        NextStep(
            "Call the android team: channel=app & device=android went from 36.0% to 29.0% "
            "(78% of the change).",
            [Link("Crash dashboard", "https://example.com/crashes")],
            ANDROID,
        )
    ]


def test_an_entry_per_segment_matches_that_segment_exactly() -> None:
    playbook = entries(
        {"when": {"segment": {"region": XSS}}, "text": "Region {{ cause.dims.region }}."},
        {"when": {"segment": {"channel": "app"}}, "text": "Not channel=app alone."},
    )
    assert steps(playbook) == [NextStep(f"Region {XSS}.", [], {"region": XSS})]


def test_a_general_entry_speaks_once_per_finding_with_its_top_cause_in_korean() -> None:
    playbook = entries(
        {"text": "{{ metric.title }}: {{ finding.change }} ({{ finding.since }}부터), "
         "주요 원인 {{ cause.segment }}"}
    )  # fmt: skip
    assert [s.text for s in steps(playbook, "ko")] == [
        "Revisit rate: −4.1%p (11월 11일부터), 주요 원인 channel=app & device=android"
    ]


def test_nothing_to_do_when_nothing_moved() -> None:
    playbook = entries({"text": "Always?"})
    calm = report_input(day(11, 18), findings=False).run
    assert next_steps(playbook, calm, unit="percent", grain="day") == []
    recovered = in_episode(report_input(day(11, 18)), EpisodeStatus.RECOVERED, 3).run
    assert next_steps(playbook, recovered, unit="percent", grain="day") == []
    assert next_steps("Plain text too.", recovered, unit="percent", grain="day") == []


def test_a_finding_without_causes_reads_a_dash_for_the_cause() -> None:
    inp = report_input(day(11, 18))
    [e] = inp.run.explanations
    run = dataclasses.replace(inp.run, explanations=[dataclasses.replace(e, causes=[])])
    playbook = entries({"text": "Top cause: {{ cause.segment }} ({{ cause.share }})."})
    found = next_steps(playbook, run, unit="percent", grain="day")
    assert [s.text for s in found] == ["Top cause: — (—)."]


def test_steps_show_in_the_report_with_hostile_values_as_text(tmp_path: Path) -> None:
    playbook = entries(
        {
            "when": {"dimension": "region"},
            "text": "Check {{ cause.segment }}",
            "links": [{"title": "<b>Runbook</b>", "url": "https://example.com/a b(1)"}],
        }
    )
    inp = dataclasses.replace(report_input(day(11, 18)), playbook=playbook)
    files = write_reports(inp, tmp_path)
    html = files.html.read_text(encoding="utf-8")
    md = files.md.read_text(encoding="utf-8")
    assert (
        "<li>Check region=&lt;script&gt;alert(1)&lt;/script&gt; · "
        '<a href="https://example.com/a b(1)">&lt;b&gt;Runbook&lt;/b&gt;</a></li>'
    ) in html
    assert (
        "- Check region=\\<script\\>alert(1)\\</script\\> · "
        "[\\<b\\>Runbook\\</b\\>](https://example.com/a%20b%281%29)"
    ) in md
    assert "<script>" not in html and "<script>" not in md


PLAYBOOK_YAML = """\
    playbook:
      - when: {dimension: channel}
        text: "{{ cause.segmnt }} moved"
      - text: "{% if %}"
      - text: "{{ cause.__class__.__mro__ }}"
      - text: ok
        links: [{title: x, url: "javascript:alert(1)"}]
      - when: {dimension: channel, segment: {channel: app}}
        text: ok
"""


def _config_errors(tmp_path: Path, playbook: str) -> list[str]:
    """The error lines of ``GOOD`` with ``playbook`` added, file paths shortened (``_short``
    leaves out each line's hint at the names a template can use)."""
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOOD + playbook))
    shown = str(tmp_path / "metrics.yaml")
    return [line.replace(shown, "metrics.yaml") for line in err.value.lines()]


def _short(lines: list[str]) -> list[str]:
    return [line.split("; it can use")[0] for line in lines]


def test_template_mistakes_are_config_errors_with_file_line_and_metric(tmp_path: Path) -> None:
    lines = _config_errors(tmp_path, PLAYBOOK_YAML)
    at = "revisit_rate: metrics.revisit_rate.playbook"
    assert _short(lines) == [
        f"metrics.yaml:16: {at}.0: playbook text does not render: "
        "'dict object' has no attribute 'segmnt'",
        f"metrics.yaml:18: {at}.1: playbook text does not render: "
        "Expected an expression, got 'end of statement block' (line 1 of the text)",
        f"metrics.yaml:19: {at}.2: playbook text does not render: "
        "access to attribute '__class__' of 'dict' object is unsafe",
        f"metrics.yaml:21: {at}.3.links.0.url: 'javascript:alert(1)' is not a web or mail "
        "link; start it with https://",
        f"metrics.yaml:22: {at}.4.when: `when` takes `dimension` or `segment`, not both",
    ]
    assert "it can use metric.{key, title}; finding.{value, " in lines[0]


def test_plain_text_and_steps_both_load(tmp_path: Path) -> None:
    steps_yaml = '    playbook:\n      - {when: {dimension: channel}, text: "{{ cause.share }}"}\n'
    config = load_config(write(tmp_path, GOOD + steps_yaml))
    [entry] = config.metrics["revisit_rate"].playbook  # type: ignore[misc]
    assert entry.when.dimension == "channel"
    text = load_config(write(tmp_path, GOOD + "    playbook: Call {{ nobody }}.\n"))
    assert text.metrics["revisit_rate"].playbook == "Call {{ nobody }}."


BILINGUAL_YAML = """\
    playbook:
      en:
        - when: {dimension: device}
          text: Ask the {{ cause.dims.device }} app owner ({{ cause.share }} of the change).
          links: [{title: {en: Release calendar, ko: 배포 일정}, url: "https://example.com/r"}]
        - text: {en: "Compare with the week's campaigns.", ko: 이번 주 캠페인과 비교하세요.}
      ko: |
        {{ 이것은 템플릿이 아니라 그대로 보입니다 }} 앱 담당자에게 문의하세요.

        지난주 배포를 확인하세요.
"""


def test_a_playbook_in_both_languages_speaks_the_reports(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD + BILINGUAL_YAML))
    playbook = config.metrics["revisit_rate"].playbook
    run = report_input(day(11, 18)).run
    english = next_steps(playbook, run, unit="percent", grain="day", locale="en")
    assert [(s.text, s.links) for s in english] == [
        (
            "Ask the android app owner (78% of the change).",
            [Link("Release calendar", "https://example.com/r")],
        ),
        ("Compare with the week's campaigns.", []),
    ]
    korean = next_steps(playbook, run, unit="percent", grain="day", locale="ko")
    assert [s.text for s in korean] == [
        "{{ 이것은 템플릿이 아니라 그대로 보입니다 }} 앱 담당자에게 문의하세요.",
        "지난주 배포를 확인하세요.",
    ]


def test_a_step_written_in_one_language_shows_in_the_other_and_links_follow_the_locale() -> None:
    playbook = entries(
        {
            "when": {"dimension": "device"},
            "text": {"ko": "{{ cause.segment }}: 앱 담당자에게 문의하세요."},
            "links": [{"title": {"en": "Runbook", "ko": "대응 절차"}, "url": "https://x.io"}],
        },
        {"text": {"en": "Only in English.", "ko": "한국어로만."}},
    )
    english, korean = steps(playbook, "en"), steps(playbook, "ko")
    assert [s.text for s in english] == [
        "channel=app & device=android: 앱 담당자에게 문의하세요.",  # the only text there is
        "Only in English.",
    ]
    assert [s.text for s in korean][1] == "한국어로만."
    assert english[0].links == [Link("Runbook", "https://x.io")]
    assert korean[0].links == [Link("대응 절차", "https://x.io")]


def test_a_whole_playbook_in_one_language_is_used_for_the_other() -> None:
    run = report_input(day(11, 18)).run
    found = next_steps({"ko": "담당자에게 알리세요."}, run, unit="percent", grain="day")
    assert [s.text for s in found] == ["담당자에게 알리세요."]


LANGUAGE_MISTAKES_YAML = """\
    playbook:
      fr: Appelez l'équipe.
      en:
        - text: {en: "{{ cause.sahre }}", ko: "{{ cause.share }}"}
        - text: {}
"""


def test_language_mistakes_are_config_errors_at_their_line(tmp_path: Path) -> None:
    lines = _config_errors(tmp_path, LANGUAGE_MISTAKES_YAML)
    at = "revisit_rate: metrics.revisit_rate.playbook"
    assert _short(lines) == [
        f"metrics.yaml:16: {at}.fr: 'fr' is not allowed — use one of 'en' or 'ko'",
        f"metrics.yaml:18: {at}.en.0: playbook text does not render: "
        "'dict object' has no attribute 'sahre'",
        f"metrics.yaml:19: {at}.en.1.text: Dictionary should have at least 1 item after "
        "validation, not 0",
    ]
