"""report/alert.py: one AlertMessage per episode, in the report's own words and numbers."""

from __future__ import annotations

import dataclasses

import pytest

from agent.message import AlertCause, AlertField, message_from_dict, message_to_dict
from agent.model import Episode, EpisodeStatus, FindingKind, Severity
from agent.report import ReportInput
from agent.report.alert import build_alerts
from tests.report import XSS, day, report_input

PERIOD = day(3, 1)


def with_episode(inp: ReportInput, status: EpisodeStatus = EpisodeStatus.NEW) -> ReportInput:
    e = inp.run.explanations[0]
    f = e.finding
    episode = Episode(
        f.metric, f.segment, status, f.since, f.period, 3, Severity.CRITICAL, f.direction,
        id="revisit_rate#4",
    )  # fmt: skip
    # the same episode twice: two findings of one story make one alert
    found = [dataclasses.replace(e, episode=episode)] * 2
    return dataclasses.replace(inp, run=dataclasses.replace(inp.run, explanations=found))


def test_one_alert_per_episode_with_header_fields_causes_and_link() -> None:
    [msg] = build_alerts(
        with_episode(report_input(PERIOD)), report_url="https://r.example/x.html", owners=["U1AB"]
    )

    assert msg.episode_id == "revisit_rate#4"
    assert msg.state == "new" and msg.severity == "critical"
    assert msg.header == "Critical · Revisit rate ↓ 4.1 pts"
    assert msg.summary.startswith("Revisit rate fell 4.1 pts to 31.2% (the change began on Feb 23)")
    assert msg.fields == [
        AlertField("Value", "31.2%"),
        AlertField("Expected", "35.3%"),
        AlertField("Change", "−4.1 pts"),
        AlertField("The change began", "Feb 23, 2024"),
        AlertField("Alert open since", "Feb 23, 2024"),
        AlertField("Confidence", "99%"),
        AlertField("Top cause", "channel=app & device=android (78%)"),
    ]
    assert msg.causes == [
        AlertCause("channel=app & device=android", "78% · 36.0% → 29.0%"),
        AlertCause(f"region={XSS}", "10% · 30.0% → 25.0%"),  # raw: each channel escapes
    ]
    assert (msg.report_url, msg.owners) == ("https://r.example/x.html", ["U1AB"])
    assert msg.deviation == pytest.approx(0.041)
    assert message_from_dict(message_to_dict(msg)) == msg


def test_findings_without_an_alerted_episode_make_no_alert() -> None:
    assert build_alerts(report_input(PERIOD)) == []
    assert build_alerts(report_input(PERIOD, findings=False)) == []


def test_korean_reports_make_korean_alerts() -> None:
    inp = dataclasses.replace(with_episode(report_input(PERIOD)), locale="ko")

    [msg] = build_alerts(inp)

    assert msg.header == "심각 · Revisit rate ↓ 4.1%p"
    assert [f.label for f in msg.fields] == [
        "실제값",
        "예상값",
        "변화",
        "변화 시작",
        "알림 시작",
        "신뢰도",
        "주요 원인",
    ]
    assert msg.locale == "ko"


def test_a_recovered_episode_says_so() -> None:
    inp = with_episode(report_input(PERIOD), EpisodeStatus.RECOVERED)
    e = inp.run.explanations[0]
    back = dataclasses.replace(
        e, finding=dataclasses.replace(e.finding, kind=FindingKind.RECOVERED)
    )
    inp = dataclasses.replace(inp, run=dataclasses.replace(inp.run, explanations=[back]))

    [msg] = build_alerts(inp)

    assert (msg.state, msg.header) == ("recovered", "Recovered · Revisit rate")
