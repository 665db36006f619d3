"""Threshold table tests: tiny series, exact expectations."""

from __future__ import annotations

import math

import pytest

from agent.detect import ThresholdDetector, ThresholdSpec
from agent.model import Direction, Severity
from tests.detect import days, rate


def below(limit: float) -> ThresholdDetector:
    return ThresholdDetector(ThresholdSpec(below=limit), good=Direction.UP)


def test_breach_below_reports_limit_and_run_start() -> None:
    [finding] = below(0.35).detect(rate([0.40, 0.36, 0.34, 0.33], [1000.0] * 4))
    assert finding.period == days(4)[3]
    assert finding.since == days(4)[2]
    assert (finding.value, finding.expected) == (0.33, 0.35)
    assert (finding.lower, finding.upper) == (0.35, math.inf)
    assert finding.direction == Direction.DOWN
    assert finding.severity == Severity.WARNING
    assert finding.score == pytest.approx(0.02 / 0.35)
    assert finding.reason == "0.33 is below the limit of 0.35"


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
    detector = ThresholdDetector(ThresholdSpec(above=100, below=10), good=Direction.DOWN)
    [finding] = detector.detect(rate([90.0, 120.0, 130.0], [1.0] * 3, additive=True))
    assert (finding.value, finding.expected) == (130.0, 100.0)
    assert (finding.lower, finding.upper) == (10.0, 100.0)
    assert finding.direction == Direction.UP
    assert finding.since == days(3)[1]
    assert finding.severity == Severity.CRITICAL
