"""False-discovery control across watched segments, and the p-value of each finding."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from scipy.stats import norm

from agent.detect.bands import Z
from agent.detect.watch import discoveries, p_value, single_series_rate
from agent.model import Direction, Finding, FindingKind, Severity


def anomaly(z: float, kind: FindingKind = FindingKind.ANOMALY, p: float | None = None) -> Finding:
    """A medium-sensitivity finding ``z`` noise sigmas below a baseline of 100 (sigma 1)."""
    half = Z["medium"]
    return Finding(
        metric="m",
        segment={"channel": "app"},
        kind=kind,
        period=datetime(2026, 11, 20),
        value=100.0 - z,
        expected=100.0,
        lower=100.0 - half,
        upper=100.0 + half,
        direction=Direction.DOWN,
        severity=Severity.WARNING,
        score=z / half,
        since=datetime(2026, 11, 20),
        p_value=p,
    )


def test_a_finding_s_own_p_value_comes_first() -> None:
    assert p_value(anomaly(4.0, p=0.02)) == 0.02


def test_without_one_a_band_finding_gets_the_normal_tail_of_its_distance() -> None:
    assert p_value(anomaly(4.0)) == pytest.approx(norm.sf(4.0))


@pytest.mark.parametrize("kind", [FindingKind.THRESHOLD, FindingKind.LATE_DATA])
def test_rules_and_late_data_are_no_evidence_of_a_segment_move(kind: FindingKind) -> None:
    assert p_value(anomaly(4.0, kind)) == 1.0


def test_benjamini_hochberg_on_a_textbook_case() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted: 0.005 <= 0.0125, 0.01 <= 0.025, 0.03 <= 0.0375, 0.04 <= 0.05: all pass
    assert discoveries(p, 0.05).tolist() == [True, True, True, True]
    # among 40 tests (36 more with nothing found) only p <= 0.05/40 passes
    padded = np.concatenate([p, np.ones(36)])
    assert not discoveries(padded, 0.05).any()
    assert discoveries(np.concatenate([[0.001, 0.5], np.ones(38)]), 0.05)[:2].tolist() == [
        True,
        False,
    ]


def test_missing_p_values_count_as_tests_without_evidence() -> None:
    assert discoveries(np.array([0.001, np.nan]), 0.0015).tolist() == [False, False]
    assert discoveries(np.array([0.0007, np.nan]), 0.0015).tolist() == [True, False]
    assert discoveries(np.array([]), 0.05).tolist() == []


def test_five_hundred_calm_segments_alarm_about_as_often_as_one() -> None:
    rng = np.random.default_rng(3)
    trials, segments = 2000, 500
    q = single_series_rate("medium")
    alarms = sum(discoveries(rng.uniform(size=segments), q).any() for _ in range(trials))
    # Without control, 1 - (1 - 0.00135)^500 = 49% of periods would alarm
    assert alarms / trials <= 2 * q


def test_the_default_rate_is_one_calm_series_chance_of_a_warning() -> None:
    assert single_series_rate("medium") == pytest.approx(norm.sf(3.0))
    assert single_series_rate("low") == pytest.approx(norm.sf(4.0))
