"""Segment watch: Benjamini–Hochberg keeps false alarms flat as segments multiply."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from scipy.stats import norm

from agent.detect.bands import Z
from agent.detect.watch import benjamini_hochberg, control_fdr, p_value, single_series_rate
from agent.model import Direction, Finding, FindingKind, Severity


def anomaly(z: float, segment: str = "app") -> Finding:
    """A medium-sensitivity anomaly ``z`` noise sigmas below a baseline of 100 (sigma 1)."""
    half = Z["medium"]
    return Finding(
        metric="m",
        segment={"channel": segment},
        kind=FindingKind.ANOMALY,
        period=datetime(2026, 11, 20),
        value=100.0 - z,
        expected=100.0,
        lower=100.0 - half,
        upper=100.0 + half,
        direction=Direction.DOWN,
        severity=Severity.WARNING,
        score=z / half,
        since=datetime(2026, 11, 20),
    )


def test_p_value_is_the_two_sided_normal_tail_of_the_distance_in_sigmas() -> None:
    assert p_value(anomaly(4.0)) == pytest.approx(2 * norm.sf(4.0))


def test_benjamini_hochberg_on_a_textbook_case() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted: 0.005 <= 0.0125, 0.01 <= 0.025, 0.03 <= 0.0375, 0.04 <= 0.05: all pass
    assert benjamini_hochberg(p, 0.05, tests=4) == [True, True, True, True]
    # among 40 tests only the smallest passes (0.005 <= 0.05 / 40 * 1? no: 0.00125)
    assert benjamini_hochberg(p, 0.05, tests=40) == [False, False, False, False]
    assert benjamini_hochberg([0.001, 0.5], 0.05, tests=40) == [True, False]


def test_a_strong_segment_survives_and_a_borderline_one_among_many_does_not() -> None:
    kept = control_fdr([anomaly(6.0, "app"), anomaly(3.05, "web")], tests=50, q=0.05)
    assert [f.segment for f in kept] == [{"channel": "app"}]


def test_fifty_null_segments_give_about_as_many_alarms_as_one() -> None:
    rng = np.random.default_rng(3)
    trials, segments = 2000, 50
    z = np.abs(rng.normal(size=(trials, segments)))
    alarms = 0
    for row in z:
        found = [anomaly(float(v), str(i)) for i, v in enumerate(row) if v > Z["medium"]]
        alarms += bool(control_fdr(found, tests=segments, q=None))
    # Without control, 1 - (1 - 0.0027)^50 = 13% of periods would alarm; one series
    # alone alarms in 0.27% of them.
    assert alarms / trials <= 0.005


def test_the_default_rate_is_the_single_series_false_alarm_rate() -> None:
    assert single_series_rate("medium") == pytest.approx(0.0027, abs=1e-4)
    kept = control_fdr([anomaly(4.5, "app"), anomaly(3.3, "web")], tests=36, q=None)
    assert [f.segment for f in kept] == [{"channel": "app"}]
