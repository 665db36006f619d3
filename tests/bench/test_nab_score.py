"""The NAB scorer on a tiny file, and cx-agent's NAB alerts as its detector sees them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agent.detect import AnomalySpec, SeasonalDetector
from agent.model import Direction
from bench.detect_nab import cx_agent_alerts, episode_starts
from bench.nab_score import FileScore, normalised, score_file, sigma
from tests.detect import additive, seasonal_noise

STAMPS = pd.date_range("2015-01-01", periods=20, freq="min")
WINDOW = [("2015-01-01 00:10", "2015-01-01 00:14")]  # rows 10..14; probation: rows 0..2


def detections(*rows: int) -> np.ndarray:
    flags = np.zeros(20, dtype=bool)
    flags[list(rows)] = True
    return flags


def test_scaled_sigmoid() -> None:
    assert sigma(0.0) == 0.0
    assert sigma(-1.0) == pytest.approx(0.986614, abs=1e-6)
    assert sigma(3.5) == -1.0


def test_earliest_detection_in_the_window_scores_and_false_alarms_cost() -> None:
    # row 1: probation, ignored; row 5: no window before it, costs A_FP in full;
    # row 12: y = -(14 - 12 + 1) / 5 = -0.6; row 13: same window, ignored;
    # row 16: 2 rows past a window of 5 rows, y = 2 / 4 = 0.5
    score = score_file(STAMPS, detections(1, 5, 12, 13, 16), WINDOW)
    assert score.raw == pytest.approx(0.905148 / 0.986614 - 0.11 + 0.11 * -0.848283, abs=1e-6)
    assert (score.null, score.perfect) == (-1.0, 1.0)
    assert (score.hits, score.misses, score.false_alarms) == (1, 0, 2)


def test_normalised_score_runs_from_never_firing_to_perfect() -> None:
    assert normalised(score_file(STAMPS, detections(), WINDOW)) == 0.0
    assert normalised(score_file(STAMPS, detections(10), WINDOW)) == 100.0
    no_window = score_file(STAMPS, detections(4), [])
    assert no_window == FileScore(raw=-0.11, null=0, perfect=0, hits=0, misses=0, false_alarms=1)
    assert np.isnan(normalised(no_window))


def test_an_episode_alerts_once_until_three_quiet_rows_close_it() -> None:
    flags = np.array([0, 1, 1, 0, 1, 0, 0, 0, 1], dtype=bool)
    assert list(np.flatnonzero(episode_starts(flags))) == [1, 8]


def test_nab_alerts_are_the_detectors_own_findings() -> None:
    values = seasonal_noise(60, level=100.0, sigma=1.0, seed=2)
    values[[45, 46, 52]] += [-15.0, -15.0, 12.0]
    series = additive(values)
    detector = SeasonalDetector(AnomalySpec(), good=Direction.UP, alert_on="both")
    found = [t for t in range(40, 60) if detector.detect(series.upto(series.frame.index[t]))]
    alerts = cx_agent_alerts(series.value)
    assert found == [45, 46, 52]
    assert list(np.flatnonzero(alerts[40:]) + 40) == [45, 52]
