"""Candidate baselines and the backtest that picks one per metric."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agent.detect.baselines import (
    CANDIDATES,
    WEEK_SLOT,
    candidate_forecasts,
    choose_baseline,
    recent_median,
    same_slot_median,
    season_of,
)
from tests.detect import WEEKLY, days

SEASONAL = {"same-slot median", "STL", "Holt-Winters"}


def daily(values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=days(len(values)))


def weekly_pattern(n: int) -> pd.Series:
    """100 plus an exact weekday profile: every seasonal model can forecast it exactly."""
    return daily(100.0 + 3.0 * WEEKLY[days(n).day_of_week])


@pytest.mark.parametrize(
    ("freq", "season"), [("D", 7), ("h", 24), ("5min", 288), ("7D", None), ("MS", None)]
)
def test_season_is_read_from_the_spacing_of_periods(freq: str, season: int | None) -> None:
    index = pd.date_range("2025-01-06", periods=30, freq=freq, tz="Asia/Seoul")
    assert season_of(index) == season


def test_recent_median_is_the_median_of_the_last_eight_judged_values() -> None:
    values = daily(np.arange(1.0, 13.0))
    values.iloc[9] = np.nan  # not judged: skipped, not counted
    forecast = recent_median(values)
    assert forecast.iloc[:4].isna().all()  # fewer than 4 values before
    assert forecast.iloc[4] == 2.5  # median of 1..4
    assert forecast.iloc[11] == 6.5  # median of 2..9 and 11
    assert forecast.iloc[10] == forecast.iloc[9] == 5.5  # median of 2..9


def test_same_slot_median_reads_the_same_weekday_of_previous_weeks() -> None:
    values = daily(np.arange(1.0, 30.0))
    forecast = same_slot_median(values, 7)
    assert forecast.iloc[:14].isna().all()  # fewer than two same weekdays before
    assert forecast.iloc[14] == 4.5  # days 0 and 7: values 1 and 8
    assert forecast.iloc[28] == 11.5  # days 0, 7, 14, 21: median of 1, 8, 15, 22


@pytest.mark.parametrize("model", ["same-slot median", "STL", "Holt-Winters"])
def test_seasonal_models_forecast_an_exact_weekly_pattern(model: str) -> None:
    values = weekly_pattern(70)
    forecast = candidate_forecasts(values)[model].dropna()
    assert len(forecast) >= 40
    assert np.allclose(forecast, values[forecast.index], atol=1e-6)


def test_non_seasonal_models_forecast_a_constant() -> None:
    values = daily(np.full(70, 42.0))
    forecasts = candidate_forecasts(values)
    assert list(forecasts.columns) == list(CANDIDATES)
    assert (forecasts[["recent median", "smoothing"]].dropna() == 42.0).all().all()


def test_weekly_and_monthly_series_have_no_seasonal_candidate() -> None:
    index = pd.date_range("2025-01-06", periods=40, freq="7D", tz="Asia/Seoul")
    forecasts = candidate_forecasts(pd.Series(np.arange(40.0), index=index))
    assert list(forecasts.columns) == ["recent median", "smoothing"]


def test_forecasts_never_read_the_future() -> None:
    values = daily(100.0 + 3.0 * WEEKLY[days(90).day_of_week])
    changed = values.copy()
    changed.iloc[60:] += 50.0
    before, after = candidate_forecasts(values), candidate_forecasts(changed)
    pd.testing.assert_frame_equal(before.iloc[:61], after.iloc[:61])
    assert not before.iloc[61:].equals(after.iloc[61:])


def test_backtest_picks_a_seasonal_model_on_a_seasonal_series() -> None:
    noise = np.random.default_rng(3).normal(0.0, 0.3, 90)
    _, model = choose_baseline(weekly_pattern(90) + noise)
    assert set(model.iloc[30:]) <= SEASONAL


def test_backtest_picks_a_non_seasonal_model_on_a_flat_noisy_series() -> None:
    values = daily(100.0 + np.random.default_rng(3).normal(0.0, 1.0, 90))
    _, model = choose_baseline(values)
    assert model.iloc[-1] in {"recent median", "smoothing"}
    assert (~model.iloc[30:].isin(SEASONAL)).mean() >= 0.9


def test_baseline_is_the_chosen_candidates_forecast() -> None:
    noise = np.random.default_rng(4).normal(0.0, 0.3, 70)
    values = weekly_pattern(70) + noise
    baseline, model = choose_baseline(values)
    forecasts = candidate_forecasts(values)
    assert baseline.iloc[-1] == forecasts[model.iloc[-1]].iloc[-1]
    assert model.iloc[0] == "recent median"  # no backtest yet, no same weekday yet


def test_same_input_same_baseline() -> None:
    values = weekly_pattern(70) + np.random.default_rng(5).normal(0.0, 0.3, 70)
    first, second = choose_baseline(values), choose_baseline(values.copy())
    pd.testing.assert_series_equal(first[0], second[0])
    pd.testing.assert_series_equal(first[1], second[1])


def test_hourly_series_know_the_hour_of_the_weekday() -> None:
    """Sunday's 9 pm peak is not Tuesday's: the same hour of the same weekday forecasts
    an hour x weekday profile exactly once two weeks are known; the same hour of the
    days before does not, and the backtest then prefers the weekly slot."""
    index = pd.date_range("2026-11-02", periods=24 * 7 * 5, freq="h", tz="Asia/Seoul")
    weekend = index.day_of_week >= 5
    values = pd.Series(100.0 + np.where(weekend, 40.0, 0.0) * (index.hour == 21), index=index)
    forecasts = candidate_forecasts(values)
    week = forecasts[WEEK_SLOT].iloc[24 * 14 :]
    assert np.allclose(week, values.iloc[24 * 14 :])
    first_saturday_9pm = values.index[(index.day_of_week == 5) & (index.hour == 21)][2]
    assert forecasts["same-slot median"][first_saturday_9pm] == 100.0  # weekdays before it
    _, model = choose_baseline(values + np.random.default_rng(6).normal(0.0, 0.1, len(values)))
    assert model.iloc[-1] == WEEK_SLOT
