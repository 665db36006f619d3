"""Shared maths and plumbing of the built-in detectors.

One place decides how a seasonal baseline is built and how sample size widens a band,
so the detectors (and the report, which draws the band) agree.

Noise model of a band at period t, from judged periods before t only::

    var_t = max(resid_var - typical_sampling_var, 0) + sampling_var_t

``resid_var`` is the robust variance (1.4826 x MAD)^2 of past value - baseline
residuals. Those residuals already contain the sampling noise of their own periods,
so its typical size is taken out before today's sampling variance (which depends on
today's denominator) is put back: a small segment gets a wide band without counting
sampling noise twice. Sampling variance is p(1-p)/den for shares, c/den for other
ratios (c fitted on past residuals) and 0 for additive metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Generic, Literal, TypeVar

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import BaseModel

from agent.cube import MetricSeries
from agent.detect.base import AlertOn
from agent.model import Direction, Finding, FindingKind, Severity

__all__ = [
    "DetectorBase",
    "Sensitivity",
    "Z",
    "is_daily",
    "is_share",
    "last_is_judged",
    "noise_floor",
    "run_start",
    "seasonal_band",
    "severity_of",
    "share_variance",
    "wall_clock",
]

Sensitivity = Literal["low", "medium", "high"]
Z: dict[str, float] = {"low": 4.0, "medium": 3.0, "high": 2.5}
"""Band half-width in noise standard deviations, per sensitivity."""

MAD_TO_SIGMA = 1.4826
CHI2_1_MEDIAN = 0.4549
"""Median of a chi-square with one degree of freedom: median(e^2) = 0.4549 var(e)."""
WINDOW = 56
"""Past residuals used for a noise estimate (8 weeks of days)."""
MIN_RESIDUALS = 4
REL_FLOOR = 1e-3
"""Smallest band half-width, relative to the level: a flat series still has a band."""
ABS_FLOOR = 1e-9

S = TypeVar("S", bound=BaseModel)


class DetectorBase(Generic[S]):
    """Constructor, direction filter and finding assembly of the built-in detectors."""

    kind: ClassVar[str]
    spec_type: ClassVar[type[BaseModel]]

    def __init__(self, spec: S, *, good: Direction, alert_on: AlertOn = "bad") -> None:
        if not isinstance(spec, self.spec_type):
            raise TypeError(f"{self.kind} detector needs a {self.spec_type.__name__}")
        self.spec = spec
        self.good = Direction(good)
        self.alert_on = alert_on

    def reports(self, direction: Direction) -> bool:
        """Whether a move in ``direction`` is worth a finding (bad news, or everything)."""
        return self.alert_on == "both" or direction != self.good

    def finding(
        self,
        series: MetricSeries,
        *,
        value: float,
        expected: float,
        band: tuple[float, float],
        direction: Direction,
        severity: Severity,
        score: float,
        since: pd.Timestamp,
        reason: str,
    ) -> Finding:
        """A finding about the last period of ``series``; ``band`` is (lower, upper)."""
        return Finding(
            metric=series.metric,
            segment=dict(series.segment or {}),
            kind=FindingKind(self.kind),
            period=series.frame.index[-1],
            value=value,
            expected=expected,
            lower=band[0],
            upper=band[1],
            direction=direction,
            severity=severity,
            score=score,
            since=since,
            reason=reason,
        )


def last_is_judged(series: MetricSeries) -> bool:
    return len(series.frame) > 0 and bool(series.judged.iloc[-1])


def run_start(flags: pd.Series) -> pd.Timestamp:
    """First index of the trailing run of True in ``flags`` (whose last item is True)."""
    breaks = flags.index[~flags.to_numpy(dtype=bool)]
    run = flags.index if len(breaks) == 0 else flags.index[flags.index > breaks[-1]]
    return run[0]


def wall_clock(index: pd.Index) -> pd.DatetimeIndex:
    """Periods as naive local times, so "a week earlier" survives DST changes."""
    stamps = pd.DatetimeIndex(index)
    return stamps.tz_localize(None) if stamps.tz is not None else stamps


def is_daily(index: pd.Index) -> bool:
    """True when periods are a day apart (judged by the median gap)."""
    if len(index) < 2:
        return False
    gap = pd.Series(wall_clock(index)).diff().median()
    return bool(pd.Timedelta(hours=20) <= gap <= pd.Timedelta(hours=28))


def is_share(series: MetricSeries) -> bool:
    """A rate whose judged values all lie in [0, 1]: a binomial proportion."""
    if series.additive:
        return False
    judged = series.value[series.judged]
    return bool(((judged >= 0) & (judged <= 1)).all())


def share_variance(p: pd.Series, den: pd.Series) -> pd.Series:
    """Binomial sampling variance p(1-p)/den (NaN where den is not positive)."""
    p = p.clip(0.0, 1.0)
    return p * (1.0 - p) / den.where(den > 0)


def noise_floor(level: pd.Series | float) -> pd.Series | float:
    """Smallest noise scale allowed at ``level``."""
    return np.maximum(REL_FLOOR * np.abs(level), ABS_FLOOR)


def seasonal_band(series: MetricSeries, sensitivity: Sensitivity) -> pd.DataFrame:
    """Baseline and band for every period, each from earlier judged periods only.

    Columns ``expected``, ``lower``, ``upper``; NaN where there is too little history
    (14 judged periods for daily data, 8 otherwise).
    """
    values = series.value.where(series.judged)
    history = series.judged.astype(int).cumsum().shift(1, fill_value=0)
    min_history = 14 if is_daily(values.index) else 8
    baseline = _baseline(values)
    half = Z[sensitivity] * np.sqrt(_noise_variance(series, values, baseline))
    expected = baseline.where(history >= min_history)
    half = np.maximum(half, noise_floor(expected))
    return pd.DataFrame({"expected": expected, "lower": expected - half, "upper": expected + half})


def _baseline(values: pd.Series) -> pd.Series:
    """Same weekday of the previous 4 weeks (daily), else median of recent periods."""
    if not is_daily(values.index):
        return _trailing(values, 8, _median, min_periods=4)
    recent = _trailing(values, 7, _median, min_periods=7)
    return _same_weekday_median(values).fillna(recent)


def _same_weekday_median(values: pd.Series) -> pd.Series:
    """Median of the same weekday 1-4 weeks earlier, where at least two are judged."""
    wall = wall_clock(values.index)
    by_day = pd.Series(values.to_numpy(), index=wall)
    lags = pd.DataFrame(
        {k: by_day.reindex(wall - pd.Timedelta(weeks=k)).to_numpy() for k in range(1, 5)},
        index=values.index,
    )
    return lags.median(axis=1).where(lags.count(axis=1) >= 2)


def _noise_variance(series: MetricSeries, values: pd.Series, expected: pd.Series) -> pd.Series:
    resid = values - expected
    sampling = _sampling_variance(series, expected, resid)
    resid_var = (MAD_TO_SIGMA * _trailing(resid, WINDOW, _mad)) ** 2
    typical = _trailing(sampling.where(resid.notna()), WINDOW, _median)
    return (resid_var - typical).clip(lower=0.0) + sampling


def _sampling_variance(series: MetricSeries, expected: pd.Series, resid: pd.Series) -> pd.Series:
    den = series.den.where(series.den > 0)
    if series.additive:
        return pd.Series(0.0, index=expected.index)
    if is_share(series):
        return share_variance(expected, den)
    scale = _trailing(resid**2 * den, WINDOW, _median) / CHI2_1_MEDIAN
    return scale / den


def _trailing(
    values: pd.Series,
    window: int,
    stat: Callable[[np.ndarray], np.ndarray],
    min_periods: int = MIN_RESIDUALS,
) -> pd.Series:
    """``stat`` over the last ``window`` non-NaN values strictly before each period."""
    compact = values.dropna()
    if compact.empty:
        return pd.Series(np.nan, index=values.index)
    padded = np.concatenate([np.full(window - 1, np.nan), compact.to_numpy(dtype=float)])
    windows = sliding_window_view(padded, window)  # row i: the window ending at value i
    rolled = np.where(np.isnan(windows).sum(axis=1) <= window - min_periods, stat(windows), np.nan)
    return pd.Series(rolled, index=compact.index).reindex(values.index).shift(1).ffill()


def _median(windows: np.ndarray) -> np.ndarray:
    return np.asarray(np.nanmedian(windows, axis=1), dtype=float)


def _mad(windows: np.ndarray) -> np.ndarray:
    return _median(np.abs(windows - _median(windows)[:, None]))


def severity_of(score: float, warning: float, critical: float) -> Severity:
    """INFO below ``warning``, WARNING up to ``critical``, CRITICAL beyond."""
    if score >= critical:
        return Severity.CRITICAL
    return Severity.WARNING if score >= warning else Severity.INFO
