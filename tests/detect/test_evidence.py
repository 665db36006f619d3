"""Accumulated evidence: the shift since an onset against the noise of its mean."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from agent.detect.evidence import WINDOWS, Scan, clip_for, scan, scan_p_value
from agent.detect.sustained import warning_p

DAY = WINDOWS["day"]
NEEDED = warning_p("medium")
SIGMA = 0.003
"""Binomial noise of a 10 % share on 10,000 visits a period: sqrt(0.09 / 10,000)."""


def moved(shift: float, periods: int, rows: int = 80) -> tuple[Scan, Scan]:
    """(down, up) evidence at the last of ``rows`` periods of a 10 % share on 10,000
    visits that moved ``shift`` binomial sigmas for its last ``periods`` periods."""
    values = np.full((rows, 1), 0.1)
    values[rows - periods :, 0] += shift * SIGMA
    den = np.full((rows, 1), 10_000.0)
    return scan(values, den, at=rows - 1, weekday=None, noise="share", window=DAY, needed=NEEDED)


def test_the_winsorizing_limit_makes_three_periods_the_shortest_news() -> None:
    limit = clip_for(NEEDED, DAY)
    assert limit == pytest.approx(2.594, abs=1e-3)
    # three periods at the limit beat the warning's z by the margin, two cannot reach it
    warning_z = limit / 1.15 / np.sqrt(1 / 3 + 1 / 28)
    assert scan_p_value(np.array([warning_z]), DAY.scan)[0] == pytest.approx(NEEDED, rel=1e-6)
    assert limit / np.sqrt(1 / 2 + 1 / 28) < warning_z
    assert clip_for(NEEDED, WINDOWS["week"]) == np.inf  # a week is news on its own


@pytest.mark.parametrize(
    ("shift", "periods", "z", "onset"),
    [
        # mean shift / sqrt(sigma^2 / n + sigma^2 / 28), each period at most 2.594 sigma
        (-2.0, 3, 3.2904, 77),  # 2 / sqrt(1/3 + 1/28)
        (-1.0, 10, 2.7130, 70),  # 1 / sqrt(1/10 + 1/28)
        (-3.0, 1, 2.5488, 79),  # winsorized: 2.594 / sqrt(1 + 1/28)
        (-10.0, 2, 3.5440, 78),  # a wild two-period blip adds 2.594 a period at most
        (-2.5, 3, 4.1130, 77),
        (-0.5, 28, 1.8698, 52),  # the longest scan: 28 periods
    ],
)
def test_a_drop_is_graded_on_the_periods_since_its_onset(
    shift: float, periods: int, z: float, onset: int
) -> None:
    down, up = moved(shift, periods)
    assert down.z[0] == pytest.approx(z, abs=1e-3)
    assert down.onset[0] == onset and down.periods[0] == min(periods, 28)
    assert down.after[0] == pytest.approx(0.1 + shift * SIGMA * min(periods, 28) / periods)
    assert down.before[0] == pytest.approx(0.1)
    assert down.p[0] == pytest.approx(scan_p_value(np.array([z]), DAY.scan)[0], rel=1e-3)
    assert up.z[0] < 0.5


def test_a_rise_is_the_mirror_of_a_drop() -> None:
    down, up = moved(+2.0, 5)
    # the noise floor (0.1 % of the level) takes 0.06 % off
    assert up.z[0] == pytest.approx(2 / np.sqrt(1 / 5 + 1 / 28), rel=1e-3)
    assert up.onset[0] == 75
    assert down.z[0] < 0.5


def test_a_wild_period_keeps_its_own_z_beside_the_winsorized_evidence() -> None:
    down, _ = moved(-10.0, 2)
    # against the latest onset's reference, whose 28 periods hold the first wild one,
    # winsorized there as well: a blip moves a reference no more than a period at the limit
    reference = 0.1 - clip_for(NEEDED, DAY) * SIGMA / 28
    assert down.spike[0] == pytest.approx((reference - 0.07) / SIGMA / np.sqrt(1 + 1 / 28), 1e-3)


def test_the_p_value_of_one_onset_is_the_normal_tail() -> None:
    assert scan_p_value(np.array([4.0]), 1)[0] == pytest.approx(norm.sf(4.0))


def test_the_p_value_of_a_scan_bounds_the_chance_of_its_maximum() -> None:
    rng = np.random.default_rng(1)
    sums = np.cumsum(rng.normal(size=(200_000, 28)), axis=1) / np.sqrt(np.arange(1, 29))
    simulated = (sums.max(axis=1) > 3.5).mean()
    bound = scan_p_value(np.array([3.5]), 28)[0]
    assert simulated <= bound <= 1.35 * simulated
    assert bound > scan_p_value(np.array([3.5]), 7)[0] > norm.sf(3.5)


@pytest.mark.parametrize("den", [30.0, 3_000.0])
def test_calm_shares_are_warned_about_as_rarely_as_promised(den: float) -> None:
    rng = np.random.default_rng(5)
    values = rng.binomial(int(den), 0.1, size=(150, 2_000)) / den
    counts = np.full(values.shape, den)
    weekday = np.arange(150) % 7
    p = np.concatenate(
        [
            scan(values, counts, at=at, weekday=weekday, noise="share", window=DAY, needed=NEEDED)[
                0
            ].p
            for at in range(100, 150, 5)
        ]
    )
    assert (p <= 0.01).mean() <= 0.01
    assert (p <= NEEDED).mean() <= NEEDED


def test_extra_noise_fitted_on_the_past_widens_the_evidence_it_needs() -> None:
    rng = np.random.default_rng(7)
    values = 0.1 + 0.01 * rng.normal(size=(150, 2_000))  # day-level shocks 3x the sampling
    counts = np.full(values.shape, 3_000.0)
    p = np.concatenate(
        [
            scan(values, counts, at=at, weekday=None, noise="share", window=DAY, needed=NEEDED)[0].p
            for at in range(100, 150, 5)
        ]
    )
    assert (p <= 0.01).mean() <= 0.015


def test_a_weekday_pattern_is_no_evidence() -> None:
    weekly = np.array([0.0, 1.5, 1.0, 0.5, 0.2, -2.0, -1.2]) * 2 * SIGMA  # +-4 sigma
    values = (0.1 + weekly[np.arange(90) % 7])[:, None]
    values = values + SIGMA * np.random.default_rng(2).normal(size=(90, 1))
    down, up = scan(
        values,
        np.full((90, 1), 10_000.0),
        at=89,
        weekday=np.arange(90) % 7,
        noise="share",
        window=DAY,
        needed=NEEDED,
    )
    assert max(down.z[0], up.z[0]) < 2.5
    assert down.expected[0] == pytest.approx(0.1 + weekly[89 % 7], abs=2 * SIGMA)


def test_a_rate_over_a_two_week_window_is_not_taken_for_a_shift() -> None:
    # a churn rate over a 14-day window: consecutive days share 13/14 of their customers,
    # so each day's sampling noise lingers for two weeks and wanders like a move would
    rng = np.random.default_rng(5)
    daily = rng.binomial(200, 0.1, size=(300, 10)).astype(float)
    lapsed = np.array([np.convolve(daily[:, j], np.ones(14), "valid") for j in range(10)]).T
    values, den = lapsed / 2800, np.full_like(lapsed, 2800.0)
    warned = 0
    for at in range(120, len(values)):
        down, up = scan(values, den, at=at, weekday=None, noise="share", window=DAY, needed=NEEDED)
        warned += int((down.p <= NEEDED).sum() + (up.p <= NEEDED).sum())
    assert warned <= 3  # of 3,340 tests; 0.13 % each when calm, about 4 in all
