"""Candidate baselines of a metric, and the choice among them by a rolling-origin backtest.

Each candidate forecasts every period one step ahead from earlier judged values only:

* ``recent median`` — median of the last 8 judged values (no season);
* ``smoothing`` — simple exponential smoothing (statsmodels), no season;
* ``same-slot median`` — median of the same slot of the 4 previous seasons (the same
  weekday for daily data, the same time of day for hourly or 5-minute data);
* ``STL`` — seasonal profile of a robust STL (statsmodels) plus the recent median of
  the deseasonalised values;
* ``Holt-Winters`` — additive seasonal exponential smoothing (statsmodels).

The season is read from the spacing of the periods: a week for daily data, a day for
sub-daily data, none for weekly or monthly data (then only the first two compete).
STL and Holt-Winters are fitted on a trailing window strictly before a block of
``refit`` periods and run one step ahead through the block; blocks are anchored at the
first period, so a series cut at any period gets the same forecasts up to that period.

At every period the baseline is the forecast of the candidate with the smallest mean
absolute one-step error over the previous ``BACKTEST`` periods (ties go to the simpler
candidate); before that backtest exists, the same-slot median, else the recent median.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "CANDIDATES",
    "candidate_forecasts",
    "choose_baseline",
    "nanmedian_rows",
    "season_of",
    "trailing",
    "wall_clock",
]

RECENT = 8
"""Judged values in the recent median (and in the STL level)."""
SEASONS_BACK = 4
MIN_SLOTS = 2
"""Same-slot values needed for a same-slot median."""
FIT_SEASONS = 4
MIN_FIT = 56
"""A model is fitted on the last max(FIT_SEASONS seasons, MIN_FIT periods) before a block."""
MIN_REFIT = 28
BACKTEST = 56
MIN_BACKTEST = 7
MIN_RESIDUALS = 4

MIN_FIT_ROWS = 10
"""A model is fitted on at least two seasons plus this many periods."""

Forecaster = Callable[[np.ndarray, np.ndarray, int | None], np.ndarray]
"""(history, block, season) -> one-step forecasts of the block's periods."""


def wall_clock(index: pd.Index) -> pd.DatetimeIndex:
    """Periods as naive local times, so "a week earlier" survives DST changes."""
    stamps = pd.DatetimeIndex(index)
    return stamps.tz_localize(None) if stamps.tz is not None else stamps


def _spacing(index: pd.Index) -> pd.Timedelta | None:
    if len(index) < 2:
        return None
    return pd.Series(wall_clock(index)).diff().median()


DAILY_SEASON = 7
"""Days in the season of daily data (a week)."""


def season_of(index: pd.Index) -> int | None:
    """Periods per season: 7 for daily data, periods per day below that, else None."""
    gap = _spacing(index)
    if gap is None or gap <= pd.Timedelta(0):
        return None
    if pd.Timedelta(hours=20) <= gap <= pd.Timedelta(hours=28):
        return DAILY_SEASON
    per_day = pd.Timedelta(days=1) / gap
    if gap < pd.Timedelta(hours=20) and per_day >= 2 and abs(per_day - round(per_day)) < 0.01:
        return round(per_day)
    return None


def trailing(
    values: pd.Series,
    window: int,
    stat: Callable[[np.ndarray], np.ndarray],
    min_periods: int = MIN_RESIDUALS,
) -> pd.Series:
    """``stat`` over the last ``window`` non-NaN values strictly before each period."""
    array = values.to_numpy(dtype=float)
    present = ~np.isnan(array)
    out = np.full(len(array), np.nan)
    if present.any():
        padded = np.concatenate([np.full(window - 1, np.nan), array[present]])
        windows = sliding_window_view(padded, window)  # row i: the window ending at value i
        enough = np.isnan(windows).sum(axis=1) <= window - min_periods
        out[present] = np.where(enough, stat(windows), np.nan)
    return pd.Series(out, index=values.index).shift(1).ffill()


def nanmedian_rows(windows: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN
        return np.asarray(np.nanmedian(windows, axis=1), dtype=float)


def recent_median(values: pd.Series) -> pd.Series:
    return trailing(values, RECENT, nanmedian_rows)


def same_slot_median(values: pd.Series, season: int) -> pd.Series:
    """Median of the same slot 1..4 seasons earlier (wall clock), where two are judged."""
    wall, spacing = wall_clock(values.index), _spacing(values.index)
    if spacing is None:  # a single period has no earlier slot
        return pd.Series(np.nan, index=values.index)
    lag = spacing * season
    by_time = pd.Series(values.to_numpy(), index=wall)
    by_time = by_time[~by_time.index.duplicated()]
    lags = np.column_stack(
        [by_time.reindex(wall - k * lag).to_numpy() for k in range(1, SEASONS_BACK + 1)]
    )
    enough = (~np.isnan(lags)).sum(axis=1) >= MIN_SLOTS
    return pd.Series(np.where(enough, nanmedian_rows(lags), np.nan), index=values.index)


@functools.lru_cache(maxsize=4096)
def _smoothing_params(history: bytes, season: int | None) -> dict[str, Any]:
    """Fitted parameters of exponential smoothing on ``history`` (float64 bytes).

    Cached: a replay judges the same series cut at successive periods, and blocks are
    anchored, so most fits repeat.
    """
    # imported on use: see agent/__init__.py
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    model = ExponentialSmoothing(
        np.frombuffer(history),
        seasonal="add" if season else None,
        seasonal_periods=season,
        initialization_method="heuristic",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return dict(model.fit().params)


def _smoothing(history: np.ndarray, block: np.ndarray, season: int | None) -> np.ndarray:
    """Exponential smoothing fitted on ``history``, run one step ahead over ``block``."""
    if np.ptp(history) == 0:
        return np.full(len(block), history[-1])
    # imported on use: see agent/__init__.py
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    params = _smoothing_params(history.tobytes(), season)
    known = ExponentialSmoothing(
        np.concatenate([history, block]),
        seasonal="add" if season else None,
        seasonal_periods=season,
        initialization_method="known",
        initial_level=params["initial_level"],
        initial_seasonal=params["initial_seasons"] if season else None,
    )
    rerun = known.fit(
        smoothing_level=params["smoothing_level"],
        smoothing_seasonal=params["smoothing_seasonal"] if season else None,
        optimized=False,
    )
    return np.asarray(rerun.fittedvalues)[len(history) :]


def _level_smoothing(history: np.ndarray, block: np.ndarray, _season: int | None) -> np.ndarray:
    return _smoothing(history, block, None)


def _stl(history: np.ndarray, block: np.ndarray, season: int | None) -> np.ndarray:
    """Robust STL profile of ``history`` plus the recent median deseasonalised level."""
    # imported on use: see agent/__init__.py
    from statsmodels.tsa.seasonal import STL

    assert season is not None
    jump = max(1, season // 24)  # STL's own speed-up: smooth every jump-th point
    fit = STL(
        history,
        period=season,
        robust=True,
        seasonal_jump=jump,
        trend_jump=jump,
        low_pass_jump=jump,
    ).fit(inner_iter=2, outer_iter=5)
    profile = np.resize(np.asarray(fit.seasonal)[-season:], len(block))
    seasonal = np.concatenate([np.asarray(fit.seasonal), profile])
    level = recent_median(pd.Series(np.concatenate([history, block]) - seasonal))
    return level.to_numpy()[len(history) :] + profile


def _blockwise(filled: np.ndarray, season: int | None, forecaster: Forecaster) -> np.ndarray:
    """One-step forecasts of every row by a model refitted every block (see module doc)."""
    out = np.full(len(filled), np.nan)
    periods = season or 1
    window = max(FIT_SEASONS * periods, MIN_FIT)
    step = max(periods, MIN_REFIT)
    for start in range(2 * periods + MIN_FIT_ROWS, len(filled), step):
        history = filled[max(0, start - window) : start]
        block = filled[start : start + step]
        if np.isnan(history).any() or np.isnan(block).any():
            continue
        out[start : start + step] = _forecast(
            forecaster, history.tobytes(), block.tobytes(), season
        )
    return out


@functools.lru_cache(maxsize=4096)
def _forecast(
    forecaster: Forecaster, history: bytes, block: bytes, season: int | None
) -> np.ndarray:
    """``forecaster`` on float64 bytes, cached: a replay cuts the same series at successive
    periods and blocks are anchored, so every block but the last repeats."""
    return forecaster(np.frombuffer(history), np.frombuffer(block), season)


def _filled(values: pd.Series, fallback: pd.Series) -> np.ndarray:
    """Unjudged values replaced from the past only: the fallback forecast, else the last value."""
    return values.fillna(fallback).ffill().to_numpy(dtype=float)


CANDIDATES = ("recent median", "smoothing", "same-slot median", "STL", "Holt-Winters")
WEEK_SLOT = "same-hour-of-week median"
"""Sub-daily series also get the median of the same time of the same weekday: the 9 pm
peak on Sunday is not the 9 pm peak on Tuesday."""


def candidate_forecasts(values: pd.Series) -> pd.DataFrame:
    """One-step forecasts of every candidate that applies (one column each, in order)."""
    season = season_of(values.index)
    recent = recent_median(values)
    forecasts: dict[str, pd.Series | np.ndarray] = {"recent median": recent}
    forecasts["smoothing"] = _blockwise(_filled(values, recent), season, _level_smoothing)
    if season is not None:
        slot = same_slot_median(values, season)
        filled = _filled(values, slot.fillna(recent))
        forecasts["same-slot median"] = slot
        forecasts["STL"] = _blockwise(filled, season, _stl)
        forecasts["Holt-Winters"] = _blockwise(filled, season, _smoothing)
        if season != DAILY_SEASON:
            forecasts[WEEK_SLOT] = same_slot_median(values, season * DAILY_SEASON)
    return pd.DataFrame(forecasts, index=values.index)


def choose_baseline(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The baseline of every period and the name of the candidate it comes from.

    ``values`` are NaN where a period is not judged: they are neither forecast targets
    in the backtest nor inputs of any candidate.
    """
    forecasts = candidate_forecasts(values)
    errors = forecasts.sub(values, axis=0).abs()
    window = max(BACKTEST, 2 * (season_of(values.index) or 0))
    score = errors.rolling(window, min_periods=MIN_BACKTEST).mean().shift(1)
    score = score.where(forecasts.notna())
    default = _default(forecasts)
    has_score = score.notna().any(axis=1)
    best = score.fillna(np.inf).idxmin(axis=1).where(has_score, default)
    column = forecasts.columns.get_indexer(pd.Index(best))
    chosen = forecasts.to_numpy()[np.arange(len(forecasts)), column]
    return pd.Series(chosen, index=values.index), best


def _default(forecasts: pd.DataFrame) -> pd.Series:
    if "same-slot median" in forecasts:
        slot = forecasts["same-slot median"].notna()
        return pd.Series(np.where(slot, "same-slot median", "recent median"), forecasts.index)
    return pd.Series("recent median", index=forecasts.index)
