"""Threshold table tests: tiny series, exact expectations."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from agent.config import load_config
from agent.cube import MetricSeries
from agent.detect import ThresholdDetector, ThresholdSpec
from agent.detect.base import AlertOn
from agent.errors import ConfigError
from agent.model import Direction, Note, Severity
from tests.detect import additive, days, rate


def detector(
    good: Direction = Direction.UP, alert_on: AlertOn = "bad", **spec: Any
) -> ThresholdDetector:
    return ThresholdDetector(ThresholdSpec(**spec), good=good, alert_on=alert_on)


def below(limit: float) -> ThresholdDetector:
    return detector(below=limit)


def weekly(values: Sequence[float], judged: Sequence[bool] | None = None) -> MetricSeries:
    """A count-like series of weeks starting on Mondays."""
    frame = additive(values, judged).frame
    frame.index = pd.date_range("2025-01-06", periods=len(values), freq="7D", tz="Asia/Seoul")
    return MetricSeries(frame, True, "m", {"channel": "app"})


# Limits


def test_breach_below_reports_limit_and_run_start() -> None:
    [finding] = below(0.35).detect(rate([0.40, 0.36, 0.34, 0.33], [1000.0] * 4))
    assert finding.period == days(4)[3]
    assert finding.since == days(4)[2]
    assert (finding.value, finding.expected) == (0.33, 0.35)
    assert (finding.lower, finding.upper) == (0.35, math.inf)
    assert finding.direction == Direction.DOWN
    assert finding.severity == Severity.WARNING
    assert finding.score == pytest.approx(0.02 / 0.35)
    assert finding.reason == Note("reason_limit_below", {"value": 0.33, "limit": 0.35})


def test_breach_more_than_ten_percent_of_the_limit_is_critical() -> None:
    [finding] = below(0.35).detect(rate([0.40, 0.30], [1000.0] * 2))
    assert finding.severity == Severity.CRITICAL
    assert finding.score == pytest.approx(0.05 / 0.35)


def test_value_on_the_limit_is_no_breach() -> None:
    assert below(0.35).detect(rate([0.30, 0.35], [1000.0] * 2)) == []


@pytest.mark.parametrize(
    ("values", "judged", "since"),
    [
        ([0.34, 0.36, 0.34], [True, True, True], 2),  # a good day breaks the run
        ([0.40, 0.34, 0.50, 0.33], [True, True, False, True], 1),  # an unjudged one does not
        ([0.30, 0.31, 0.32], [True, True, True], 0),  # the run starts with the series
    ],
)
def test_since_is_the_start_of_the_judged_run(
    values: list[float], judged: list[bool], since: int
) -> None:
    [finding] = below(0.35).detect(rate(values, [1000.0] * len(values), judged))
    assert finding.since == days(len(values))[since]


def test_breach_above_on_a_metric_where_down_is_good() -> None:
    [finding] = detector(Direction.DOWN, above=100, below=10).detect(additive([90, 120, 130]))
    assert (finding.value, finding.expected) == (130.0, 100.0)
    assert (finding.lower, finding.upper) == (10.0, 100.0)
    assert finding.direction == Direction.UP
    assert finding.since == days(3)[1]
    assert finding.severity == Severity.CRITICAL
    assert finding.reason == Note("reason_limit_above", {"value": 130.0, "limit": 100.0})


# Relative change


def test_fall_against_the_previous_day() -> None:
    spec = {"change": {"max": "15%", "against": "previous"}}
    [finding] = detector(**spec).detect(rate([0.50, 0.50, 0.40], [1000.0] * 3))
    assert (finding.value, finding.expected) == (0.40, 0.50)
    assert (finding.lower, finding.upper) == pytest.approx((0.425, 0.575))
    assert finding.direction == Direction.DOWN
    assert finding.since == days(3)[2]
    assert finding.score == pytest.approx(0.025 / 0.425)
    assert finding.severity == Severity.WARNING
    assert finding.reason == Note(
        "reason_change_down",
        {"moved": pytest.approx(0.2), "against": "previous_day", "max": 0.15},
    )


def test_change_within_the_limit_is_no_breach() -> None:
    assert detector(change={"max": 0.15}).detect(additive([100, 86])) == []


def test_a_move_just_past_the_limit_does_not_read_as_the_limit() -> None:
    [finding] = detector(change={"max": "10%"}).detect(additive([10000, 8996]))
    assert finding.reason == Note(
        "reason_change_down",
        {"moved": pytest.approx(0.1004), "against": "previous_day", "max": 0.1},
    )


def test_fall_against_the_same_weekday_last_week() -> None:
    values = [100, 10, 10, 10, 10, 10, 10, 82]  # Monday 100, then Monday 82
    [finding] = detector(change={"max": "15%", "against": "same_weekday"}).detect(additive(values))
    assert (finding.value, finding.expected) == (82.0, 100.0)
    assert (finding.lower, finding.upper) == (85.0, 115.0)
    assert finding.reason == Note(
        "reason_change_down",
        {"moved": pytest.approx(0.18), "against": "same_weekday", "max": 0.15},
    )


def test_fall_against_the_median_of_the_same_weekday_over_4_weeks() -> None:
    values = [500.0] * 29
    values[0:22:7] = [100, 120, 80, 105]  # the four Mondays before; median 102.5
    values[28] = 61.5
    [finding] = detector(change={"max": "20%", "against": "median_4_weeks"}).detect(
        additive(values)
    )
    assert finding.expected == 102.5
    assert finding.reason == Note(
        "reason_change_down",
        {"moved": pytest.approx(0.4), "against": "median_4_weeks", "max": 0.2},
    )
    assert finding.severity == Severity.CRITICAL  # 61.5 is 25% under the edge of 82


@pytest.mark.parametrize(
    ("against", "expected", "text"),
    [
        ("previous", 100.0, "previous_period"),
        ("same_weekday", 100.0, "previous_period"),
        ("median_4_weeks", 150.0, "median_4_periods"),
    ],
)
def test_weekly_grain_compares_with_previous_periods(
    against: str, expected: float, text: str
) -> None:
    series = weekly([200, 100, 400, 100, 60])
    [finding] = detector(change={"max": "10%", "against": against}).detect(series)
    assert finding.expected == expected
    assert finding.reason is not None and finding.reason.params["against"] == text


def test_change_run_starts_at_the_first_breaching_period() -> None:
    series = additive([100, 100, 80, 64, 51.2])
    [finding] = detector(change={"max": "10%"}).detect(series)
    assert finding.since == days(5)[2]


def test_no_comparison_against_zero() -> None:
    assert detector(change={"max": "10%"}).detect(additive([0, 5])) == []


# Unjudged comparison periods


@pytest.mark.parametrize("against", ["previous", "same_weekday"])
def test_unjudged_comparison_period_gives_no_finding(against: str) -> None:
    values = [100.0] * 7 + [50.0]
    compared = 6 if against == "previous" else 0
    judged = [i != compared for i in range(8)]
    spec = {"change": {"max": "10%", "against": against}}
    assert detector(**spec).detect(additive(values)) != []
    assert detector(**spec).detect(additive(values, judged)) == []


def test_median_of_4_weeks_skips_unjudged_weeks() -> None:
    values = [500.0] * 29
    values[0:22:7] = [100, 120, 80, 10]
    values[28] = 50
    judged = [i != 21 for i in range(29)]  # the Monday a week before is a holiday
    [finding] = detector(change={"max": "20%", "against": "median_4_weeks"}).detect(
        additive(values, judged)
    )
    assert finding.expected == 100.0


# Target


def test_target_missed_reports_progress() -> None:
    [finding] = detector(target=40).detect(additive([45, 38, 35]))
    assert (finding.value, finding.expected) == (35.0, 40.0)
    assert (finding.lower, finding.upper) == (40.0, math.inf)
    assert finding.direction == Direction.DOWN
    assert finding.since == days(3)[1]
    assert finding.score == pytest.approx(5 / 40)
    assert finding.severity == Severity.CRITICAL
    assert finding.reason == Note("reason_target_share", {"ratio": 0.875, "target": 40.0})


def test_target_of_a_metric_where_down_is_good_is_missed_above_it() -> None:
    target = detector(Direction.DOWN, target="5%")
    [finding] = target.detect(rate([0.04, 0.06], [1000.0] * 2))
    assert (finding.lower, finding.upper) == (-math.inf, 0.05)
    assert finding.direction == Direction.UP
    assert finding.reason == Note(
        "reason_target_share", {"ratio": pytest.approx(1.2), "target": 0.05}
    )
    assert target.detect(rate([0.06, 0.04], [1000.0] * 2)) == []


def test_beating_the_target_is_never_a_finding() -> None:
    assert detector(alert_on="both", target=40).detect(additive([30, 50])) == []


def test_target_at_or_below_zero_is_worded_without_a_share() -> None:
    [finding] = detector(target=0).detect(additive([5, -12]))
    assert finding.reason == Note("reason_target_below", {"value": -12.0, "target": 0.0})


# Direction and several rules


def test_a_rise_is_reported_only_when_asked_or_when_down_is_good() -> None:
    series = additive([100, 130])
    spec = {"change": {"max": "20%"}}
    assert detector(**spec).detect(series) == []
    [finding] = detector(alert_on="both", **spec).detect(series)
    assert finding.direction == Direction.UP
    assert finding.reason == Note(
        "reason_change_up",
        {"moved": pytest.approx(0.3), "against": "previous_day", "max": 0.2},
    )
    assert detector(Direction.DOWN, **spec).detect(series) == [finding]


def test_several_rules_give_the_most_severe_breach() -> None:
    series = rate([0.40, 0.29], [1000.0] * 2)
    [finding] = detector(below=0.30, change={"max": "10%"}, target=0.35).detect(series)
    # limit: 3% under 0.30; change: 19% under the edge 0.36; target: 17% under 0.35
    assert finding.expected == 0.40
    assert finding.severity == Severity.CRITICAL
    assert finding.reason == Note(
        "reason_change_down",
        {"moved": pytest.approx(0.275), "against": "previous_day", "max": 0.1},
    )


def test_a_rule_broken_on_the_good_side_leaves_the_others() -> None:
    series = additive([100, 70])
    spec = {"above": 50, "change": {"max": "20%"}}
    [finding] = detector(**spec).detect(series)
    assert (finding.direction, finding.expected) == (Direction.DOWN, 100.0)
    [finding] = detector(alert_on="both", **spec).detect(series)
    assert (finding.direction, finding.expected) == (Direction.UP, 50.0)


# Options


def test_numbers_may_be_written_as_percentages() -> None:
    spec = ThresholdSpec(below="30%", change={"max": "12.5%"}, target=0.4)
    assert (spec.below, spec.change.max, spec.target) == (0.30, 0.125, 0.4)
    assert spec.change.against == "previous"


CONFIG = """\
version: 1
warehouse: duckdb:///w.duckdb
sources:
  activity: {table: events, time: event_time}
metrics:
  conversion:
    title: Conversion
    source: activity
    kind: count
    detect:
      threshold: {}
"""


def config_error(tmp_path: Path, threshold: str) -> list[str]:
    path = tmp_path / "metrics.yaml"
    path.write_text(textwrap.dedent(CONFIG.replace("{}", threshold)))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    return [line.replace(str(path), "metrics.yaml") for line in err.value.lines()]


@pytest.mark.parametrize(
    ("threshold", "message"),
    [
        (
            "{}",
            "metrics.yaml:11: conversion: metrics.conversion.detect.threshold: threshold needs"
            " a rule — add one or more of `below`, `above`, `change: {max: 15%, against:"
            " previous}` or `target`",
        ),
        (
            "{change: {max: -15%}}",
            "metrics.yaml:11: conversion: metrics.conversion.detect.threshold.change.max: `max`"
            " is the size of a move and cannot be negative (got -15%) — write e.g."
            " `max: 15%`; `good:` says which direction alerts",
        ),
        (
            "{change: {max: 15%, against: last_week}}",
            "metrics.yaml:11: conversion: metrics.conversion.detect.threshold.change.against:"
            " 'last_week' is not allowed — use one of 'previous', 'same_weekday' or"
            " 'median_4_weeks'",
        ),
        (
            "{target: forty}",
            "metrics.yaml:11: conversion: metrics.conversion.detect.threshold.target:"
            " 'forty' is not a number; write e.g. 0.15 or 15%",
        ),
        (
            "{below: 0.5, above: 0.3}",
            "metrics.yaml:11: conversion: metrics.conversion.detect.threshold:"
            " `below` must be smaller than `above` — swap them",
        ),
    ],
)
def test_config_errors_name_the_metric_and_the_fix(
    tmp_path: Path, threshold: str, message: str
) -> None:
    assert config_error(tmp_path, threshold) == [message]
