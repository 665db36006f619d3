"""Change points: recent level shifts are news, old ones and seasonal noise are not."""

from __future__ import annotations

import numpy as np
import pytest

from agent.detect import ChangePointDetector, ChangePointSpec
from agent.model import Direction, Severity
from tests.detect import additive, days, rate, seasonal_noise

N = 120


def detector(
    min_shift: float = 0.0, alert_on: str = "bad", recent: int = 14
) -> ChangePointDetector:
    spec = ChangePointSpec(min_shift=min_shift, recent=recent)
    return ChangePointDetector(spec, good=Direction.UP, alert_on=alert_on)  # type: ignore[arg-type]


def shifted(ago: int, shift: float, seed: int = 11) -> np.ndarray:
    """120 days of level 100 with weekly seasonality and noise sd 1, moved ``ago`` days ago."""
    values = seasonal_noise(N, level=100.0, sigma=1.0, seed=seed)
    values[N - ago :] += shift
    return values


def test_recent_three_sigma_drop_is_found_from_its_first_day() -> None:
    [finding] = detector().detect(additive(shifted(10, -3.0)))
    assert abs((finding.since - days(N)[N - 10]).days) <= 1
    assert finding.period == days(N)[-1]
    assert finding.direction == Direction.DOWN
    assert finding.expected == pytest.approx(100.0, abs=0.5)
    assert finding.value == pytest.approx(97.0, abs=0.7)
    assert finding.lower < finding.expected < finding.upper
    assert finding.score == pytest.approx(
        3 * (finding.expected - finding.value) / (finding.upper - finding.expected)
    )


def test_big_shift_is_critical() -> None:
    [finding] = detector().detect(additive(shifted(10, -8.0)))
    assert finding.severity == Severity.CRITICAL
    assert finding.since == days(N)[N - 10]


def test_old_shift_is_history() -> None:
    assert detector(alert_on="both").detect(additive(shifted(60, -3.0))) == []


def test_news_lasts_recent_periods() -> None:
    assert detector(recent=7).detect(additive(shifted(10, -8.0))) == []
    [finding] = detector(recent=7).detect(additive(shifted(5, -8.0)))
    assert finding.since == days(N)[N - 5]


@pytest.mark.parametrize("seed", range(10))
def test_weekly_seasonal_noise_has_no_change(seed: int) -> None:
    assert detector(alert_on="both").detect(additive(shifted(0, 0.0, seed))) == []


def test_shift_smaller_than_min_shift_is_ignored() -> None:
    assert detector(min_shift=5.0).detect(additive(shifted(10, -3.0))) == []
    assert detector(min_shift=2.0).detect(additive(shifted(10, -3.0))) != []


def test_sampling_noise_of_small_segments_hides_small_shifts() -> None:
    # a one-point drop of a 40 % share: 4 sigma at 40 000 customers, 0.05 sigma at 40
    values = seasonal_noise(N, level=0.40, sigma=0.0025, seed=4)
    values[-10:] -= 0.01
    assert detector().detect(rate(values, [40_000.0] * N)) != []
    assert detector().detect(rate(values, [40.0] * N)) == []


def test_unjudged_days_are_left_out() -> None:
    values = shifted(0, 0.0)
    values[-4] = 10.0  # an outage day the caller marked unjudged
    judged = [True] * N
    judged[-4] = False
    assert detector(alert_on="both").detect(additive(values, judged)) == []
