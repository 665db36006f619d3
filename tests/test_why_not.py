"""The report says truthfully why a finding did not alert: the period was not judged (and
why), the move has not lasted the periods the metric asks for, or it stays below warning."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from agent.config import Config, load_config
from agent.detect.episodes import AlertPolicy, EpisodeTracker
from agent.model import Direction, Finding, FindingKind, Note, Severity
from agent.notify.silences import add_silence
from agent.pipeline.metric_run import MetricJob
from agent.pipeline.run import open_warehouse, run_metric
from agent.report.wording import Wording
from agent.store import open_store
from tests.insight.conftest import METRICS, write_warehouse

METRIC = "support_contacts"
HOLIDAY = date(2026, 3, 2)  # the substitute holiday of Independence Movement Day


def configured(home: Path, locale: str, min_periods: int) -> Config:
    text = METRICS.replace("country: KR", f"country: KR\nlocale: {locale}").replace(
        "    tuning:", f"    alert: {{min_periods: {min_periods}}}\n    tuning:"
    )
    (home / "metrics.yaml").write_text(text, encoding="utf-8")
    write_warehouse(home / "warehouse.duckdb")
    return load_config(home / "metrics.yaml")


def report_lines(home: Path, config: Config, day: date, silence: str | None = None) -> list[str]:
    store = open_store(config.store, base_dir=home)
    if silence is not None:
        now = datetime(2026, 3, 20, 0, 0, tzinfo=UTC)
        until = datetime(2099, 3, 21, 9, 0, tzinfo=UTC)
        add_silence(store, METRIC, {}, until=until, reason=silence, now=now)
    with open_warehouse(config, home / "metrics.yaml") as source:
        _, files = run_metric(config, METRIC, day, source, home / "reports", store)
    store.close()
    return files.md.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("en", "- Mar 2 is not judged: public holidays shape it."),
        ("ko", "- 3월 2일은 판단하지 않았습니다: 공휴일의 영향을 받은 기간입니다."),
    ],
)
def test_a_holiday_is_not_judged_and_the_report_says_so(
    tmp_path: Path, locale: str, said: str
) -> None:
    config = configured(tmp_path, locale, 1)
    assert said in report_lines(tmp_path, config, HOLIDAY)


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("en", "— not alerted yet: seen in 2 of the 3 periods in a row the metric needs to alert."),
        ("ko", "— 아직 알림 전: 알림에 필요한 연속 3개 기간 중 2개 기간에서 확인됨."),
    ],
)
def test_a_move_that_has_not_lasted_says_how_far_it_got(
    tmp_path: Path, locale: str, said: str
) -> None:
    """The contacts jump on Mar 16; the change point shows from Mar 18; the metric asks
    for 3 periods in a row: on Mar 19 it has 2."""
    config = configured(tmp_path, locale, 3)
    lines = report_lines(tmp_path, config, date(2026, 3, 19))
    assert [line for line in lines if line.endswith(said)], lines


def test_a_finding_below_warning_says_so_and_not_that_periods_are_missing(
    tmp_path: Path,
) -> None:
    """An info finding on two periods of a metric that alerts after one: the old report
    said "seen for 2 of the 1 periods needed to alert"."""
    config = configured(tmp_path, "en", 1)
    with open_warehouse(config, tmp_path / "metrics.yaml") as source:
        job = MetricJob.fetch(config, METRIC, source, date(2026, 3, 19), date(2026, 3, 19))
    tracker = EpisodeTracker(AlertPolicy(min_periods=1), warm=False)
    for day in job.series.frame.index[-2:]:
        shift = Note(
            "reason_change_point_up",
            {"before": 1004.0, "after": 1060.0, "since": day, "sigma": 2.1},
        )
        info = Finding(
            METRIC, {}, FindingKind.CHANGE_POINT, day, 1060.0, 1004.0, 950.0, 1050.0,
            Direction.UP, Severity.INFO, 2.1, day, shift,
        )  # fmt: skip
        episodes, _ = tracker.step(day, [info])
    [note] = job._period_notes(day, [info], episodes)
    assert episodes[0].periods == 2
    worded = {locale: Wording(locale, "number", "day")(note) for locale in ("en", "ko")}
    assert worded["en"].endswith(
        "— not alerted: it stays below warning (info), so it is shown here and not sent."
    )
    assert worded["ko"].endswith(
        "— 알림 없음: 경고 수준에 미치지 않아(참고) 보고서에만 표시하고 보내지 않습니다."
    )


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("en", "- Not sent: all customers is silenced until Mar 21, 2099 18:00 "
         "(call-centre move)."),
        ("ko", "- 보내지 않음: 전체 고객의 알림은 2099년 3월 21일 18:00까지 꺼져 있습니다 "
         "(call-centre move)."),
    ],
)  # fmt: skip
def test_a_silenced_alert_says_it_is_not_sent_and_until_when(
    tmp_path: Path, locale: str, said: str
) -> None:
    config = configured(tmp_path, locale, 1)
    assert said in report_lines(tmp_path, config, date(2026, 3, 19), "call-centre move")
