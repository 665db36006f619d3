"""Seasonal-baseline anomalies: the band, the weekday baseline and sample size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from agent.cube import MetricSeries
from agent.detect import AnomalySpec, SeasonalDetector
from agent.detect.bands import band_frame, holiday_neighbours, seasonal_band
from agent.detect.baselines import candidate_forecasts
from agent.model import Direction, Finding, Severity
from tests.detect import additive, days, rate, seasonal_noise

WARNING = Severity.WARNING.rank
MONDAYS = 13 * 7 + 1
"""Days from a Monday to the Monday 13 weeks later, inclusive."""


def detector(sensitivity: str = "medium", alert_on: str = "bad") -> SeasonalDetector:
    spec = AnomalySpec(sensitivity=sensitivity)
    return SeasonalDetector(spec, good=Direction.UP, alert_on=alert_on)  # type: ignore[arg-type]


def revisit_rate(den: float, last_drop: float = 0.0) -> MetricSeries:
    """A revisit rate around 40 % with weekly seasonality and the noise of den 40 000."""
    values = seasonal_noise(MONDAYS, level=0.40, sigma=0.0025, seed=3)
    values[-1] -= last_drop
    return rate(values, [den] * MONDAYS)


@pytest.mark.parametrize(
    ("sensitivity", "half"), [("low", 0.04), ("medium", 0.03), ("high", 0.025)]
)
def test_band_of_a_steady_share_is_its_binomial_noise(sensitivity: str, half: float) -> None:
    # p(1-p)/den = 0.24 / 2400 = 0.0001: sigma 0.01, times z = 4 / 3 / 2.5
    band = seasonal_band(rate([0.4] * 20, [2400.0] * 20), sensitivity)  # type: ignore[arg-type]
    assert band.iloc[:14].isna().all().all()  # fewer than 14 judged days before
    assert np.allclose(band["expected"].iloc[14:], 0.4)
    assert np.allclose(band["upper"].iloc[14:] - band["expected"].iloc[14:], half)
    assert np.allclose(band["expected"].iloc[14:] - band["lower"].iloc[14:], half)


def test_normal_monday_is_not_an_anomaly() -> None:
    assert detector(alert_on="both").detect(revisit_rate(40_000)) == []


@pytest.mark.parametrize(("customers", "alerts"), [(40, 0), (40_000, 1)])
def test_five_points_on_forty_customers_is_noise_on_forty_thousand_is_news(
    customers: int, alerts: int
) -> None:
    # the same revisit rate, the same 5-point drop on the last Monday: only sample size differs
    series = revisit_rate(customers, last_drop=0.05)
    assert len(detector().detect(series)) == alerts
    band = seasonal_band(series, "medium").iloc[-1]
    binomial = np.sqrt(0.4 * 0.6 / customers)  # 0.077 for 40, 0.0024 for 40 000
    assert band["upper"] - band["expected"] >= 3 * binomial * 0.99


def test_five_point_drop_on_forty_thousand_customers_is_found() -> None:
    series = revisit_rate(40_000, last_drop=0.05)
    [finding] = detector().detect(series)
    frame = band_frame(series, "medium")
    model = frame["model"].iloc[-1]
    assert model in {"same-slot median", "STL", "Holt-Winters"}  # weekly season
    assert finding.expected == candidate_forecasts(series.value)[model].iloc[-1]
    assert finding.reason is not None and finding.reason.code == "reason_anomaly_down"
    assert finding.reason.params["model"] == model
    assert finding.direction == Direction.DOWN
    assert finding.severity == Severity.CRITICAL
    assert finding.since == finding.period == days(MONDAYS)[-1]
    assert finding.lower < finding.expected < finding.upper
    assert finding.score == pytest.approx(
        (finding.expected - finding.value) / (finding.upper - finding.expected)
    )


def test_same_drop_on_forty_customers_is_noise() -> None:
    assert detector().detect(revisit_rate(40, last_drop=0.05)) == []


def test_ratio_band_scales_with_the_denominator() -> None:
    # order value 50 with noise sd 10/sqrt(orders): 0.5 at 400 orders, 5 at 4 orders
    noise = np.random.default_rng(5).normal(0.0, 0.5, 60)
    values = 50.0 + noise
    values[-1] = 47.0
    assert detector().detect(rate(values, [400.0] * 60)) != []
    assert detector().detect(rate(values, [400.0] * 59 + [4.0])) == []


def test_run_of_low_days_dates_back_to_its_first_day() -> None:
    values = seasonal_noise(MONDAYS, level=0.40, sigma=0.0025, seed=3)
    values[-3:] -= 0.05
    [finding] = detector().detect(rate(values, [40_000] * MONDAYS))
    assert finding.since == days(MONDAYS)[-3]


def test_unjudged_days_are_not_baseline() -> None:
    values = [100.0] * 28 + [100.0]
    values[-8] = 1000.0  # last Monday: a holiday the caller did not judge
    judged = [True] * 29
    judged[-8] = False
    band = seasonal_band(additive(values, judged), "medium")
    assert band["expected"].iloc[-1] == 100.0
    assert detector().detect(additive(values[:-1] + [80.0], judged)) != []


def test_too_little_history_gives_nothing() -> None:
    assert detector().detect(rate([0.4] * 14 + [0.2], [2400.0] * 15)) != []
    assert detector().detect(rate([0.4] * 13 + [0.2], [2400.0] * 14)) == []


def test_weekly_grain_has_a_band_after_eight_weeks() -> None:
    index = pd.date_range("2025-01-06", periods=12, freq="7D", tz="Asia/Seoul")
    frame = pd.DataFrame(
        {"num": 1.0, "den": 1.0, "value": [5.0, 7.0] * 6, "judged": True}, index=index
    )
    band = band_frame(MetricSeries(frame, additive=True), "medium")
    assert band["expected"].iloc[:8].isna().all()
    assert band["expected"].iloc[-1] == 6.0  # median of the last 8: no season at this grain
    assert band["model"].iloc[-1] == "recent median"


def test_same_weekday_survives_a_daylight_saving_change() -> None:
    # Berlin moves its clocks on Sunday 2025-03-30; Mondays are 80, other days 100
    index = pd.date_range("2025-02-24", "2025-04-07", freq="D", tz="Europe/Berlin")
    values = np.where(index.day_of_week == 0, 80.0, 100.0)
    frame = pd.DataFrame({"num": values, "den": 1.0, "value": values, "judged": True}, index=index)
    band = seasonal_band(MetricSeries(frame, additive=True), "medium")
    assert band["expected"].iloc[-1] == 80.0


def test_holiday_neighbours_are_kept_out_and_the_day_after_is_not_judged() -> None:
    values = [100.0] * 40
    judged = [True] * 40
    values[29], values[30], values[31] = 130.0, 300.0, 70.0  # eve, holiday, catch-up day
    judged[30] = False
    series = additive(values, judged)
    neighbours = holiday_neighbours(series.judged)
    assert list(np.flatnonzero(neighbours)) == [29, 31]
    band = seasonal_band(series, "medium")
    assert np.isnan(band["expected"].iloc[31])  # the day after a holiday is not judged
    assert detector(alert_on="both").detect(series.upto(days(40)[31])) == []
    assert (band["expected"].iloc[32:] == 100.0).all()  # nor is any of them baseline


def test_unjudged_days_at_the_end_have_no_neighbours() -> None:
    series = additive([100.0] * 20, [True] * 18 + [False] * 2)  # partial, immature
    assert not holiday_neighbours(series.judged).any()


def test_sub_daily_spike_must_beat_every_deviation_of_the_past_week() -> None:
    index = pd.date_range("2025-01-06", periods=24 * 21, freq="h", tz="Asia/Seoul")
    values = 100.0 + np.random.default_rng(1).normal(0.0, 1.0, len(index))
    values[24 * 16] = 110.0  # a 10-sigma hour, five days before the end
    values[-1] = 108.0  # 8 sigma: outside a 3-sigma band, but smaller than that hour
    frame = pd.DataFrame({"num": values, "den": 1.0, "value": values, "judged": True}, index)
    series = MetricSeries(frame, additive=True, metric="m")
    assert detector(alert_on="both").detect(series) == []
    frame.iloc[-1, frame.columns.get_loc("value")] = 115.0
    [finding] = detector(alert_on="both").detect(MetricSeries(frame, additive=True))
    assert finding.upper - finding.expected > 8.0  # that hour's deviation, not 3 sigma


def replay(series: MetricSeries, first: int, last: int) -> list[list[Finding]]:
    """The anomaly detector's findings on each day ``first``..``last`` of ``series``."""
    periods = list(days(len(series.frame))[first : last + 1])
    found = detector().detect_periods(series, periods)
    return [found[p] for p in periods]


def test_a_sustained_nps_drop_warns_though_each_day_is_inside_the_band() -> None:
    # NPS around +15 (4 points of daily noise on 400 answers, weekly pattern), 8 points
    # (2 sigma) lower from day 100 on
    values = seasonal_noise(120, level=15.0, sigma=4.0, seed=3)
    values[100:] -= 8.0
    series = rate(values, [400.0] * 120)
    band = seasonal_band(series, "medium").iloc[100:]
    inside = (series.value.iloc[100:] >= band["lower"]) & (series.value.iloc[100:] <= band["upper"])
    assert inside.all()  # not one day leaves the band
    found = replay(series, 100, 119)
    warned = next(
        day for day, fs in enumerate(found) if any(f.severity.rank >= WARNING for f in fs)
    )
    assert warned <= 5  # within 5 periods of the onset, on the evidence of all of them
    [finding] = found[warned]
    assert finding.since == days(120)[100]
    assert finding.reason is not None and finding.reason.code == "reason_sustained_down"
    assert finding.value == pytest.approx(values[100 : 101 + warned].mean())
    assert finding.p_value is not None and finding.p_value <= norm.sf(3.0)
    assert all(fs and fs[0].severity.rank >= WARNING for fs in found[warned:])  # it lasts


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("width", [1, 2])
def test_a_one_or_two_day_spike_below_six_sigma_does_not_page(seed: int, width: int) -> None:
    values = seasonal_noise(120, level=100.0, sigma=1.0, seed=seed)
    values[100 : 100 + width] -= 4.5
    found = [f for fs in replay(additive(values), 100, 107) for f in fs]
    assert found  # seen, and shown in the report
    assert all(f.severity is Severity.INFO for f in found)


def test_a_day_far_outside_pages_on_its_own() -> None:
    values = seasonal_noise(120, level=100.0, sigma=1.0, seed=1)
    values[100] -= 9.0
    [finding] = replay(additive(values), 100, 100)[0]
    assert finding.severity is Severity.CRITICAL
    assert finding.reason is not None and finding.reason.code == "reason_anomaly_down"
