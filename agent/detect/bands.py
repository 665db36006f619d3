"""Shared maths and plumbing of the built-in detectors.

One place decides how a seasonal baseline is built and how sample size widens a band,
so the detectors (and the report, which draws the band) agree. The baseline is the
forecast of the candidate model that a rolling-origin backtest on the metric's own
judged history prefers (:mod:`agent.detect.baselines`). Holidays are not judged by the
caller; their neighbours are handled here (:func:`holiday_neighbours`).

Noise model of a band at period t, from judged periods before t only::

    var_t = max(resid_var - typical_sampling_var, 0) + sampling_var_t

``resid_var`` is the robust variance (1.4826 x MAD)^2 of past value - baseline
residuals. Those residuals already contain the sampling noise of their own periods,
so its typical size is taken out before today's sampling variance (which depends on
today's denominator) is put back: a small segment gets a wide band without counting
sampling noise twice. Sampling variance is p(1-p)/den for shares, c/den for other
ratios (c fitted on past residuals) and 0 for additive metrics. Sub-daily bands are
also at least as wide as the largest deviation of the past week (``_past_week_max``),
for a rate in units of each period's noise.
"""

from __future__ import annotations

from typing import ClassVar, Generic, Literal, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel

from agent.cube import MetricSeries
from agent.detect.base import AlertOn
from agent.detect.baselines import (
    choose_baseline,
    nanmedian_rows,
    season_of,
    trailing,
    wall_clock,
)
from agent.model import Direction, Finding, FindingKind, Note, Severity

__all__ = [
    "DetectorBase",
    "Sensitivity",
    "Z",
    "band_frame",
    "holiday_neighbours",
    "is_daily",
    "is_share",
    "last_is_judged",
    "noise_floor",
    "run_start",
    "seasonal_band",
    "severity_of",
    "share_so_far",
    "share_variance",
    "spaced_daily",
    "wall_clock",
    "wall_hours",
]

Sensitivity = Literal["low", "medium", "high"]
Z: dict[str, float] = {"low": 4.0, "medium": 3.0, "high": 2.5}
"""Band half-width in noise standard deviations, per sensitivity."""

MAD_TO_SIGMA = 1.4826
CHI2_1_MEDIAN = 0.4549
"""Median of a chi-square with one degree of freedom: median(e^2) = 0.4549 var(e)."""
WINDOW = 56
"""Past residuals used for a noise estimate (8 weeks of days)."""
REL_FLOOR = 1e-3
"""Smallest band half-width, relative to the level: a flat series still has a band."""
ABS_FLOOR = 1e-9

S = TypeVar("S", bound=BaseModel)


class DetectorBase(Generic[S]):
    """Constructor, direction filter and finding assembly of the built-in detectors."""

    kind: ClassVar[str]
    spec_type: ClassVar[type[BaseModel]]
    finding_kinds: ClassVar[tuple[FindingKind, ...]]
    tunable: ClassVar[tuple[str, ...]] = ()
    on_segments: ClassVar[bool] = False

    @classmethod
    def band_z(cls, sensitivity: str) -> float | None:
        return None

    def __init__(self, spec: S, *, good: Direction, alert_on: AlertOn = "bad") -> None:
        if not isinstance(spec, self.spec_type):
            raise TypeError(f"{self.kind} detector needs a {self.spec_type.__name__}")
        self.spec = spec
        self.good = Direction(good)
        self.alert_on = alert_on

    def reports(self, direction: Direction) -> bool:
        """Whether a move in ``direction`` is worth a finding (bad news, or everything)."""
        return self.alert_on == "both" or direction != self.good

    def detect_periods(
        self, series: MetricSeries, periods: list[pd.Timestamp]
    ) -> dict[pd.Timestamp, list[Finding]]:
        """``detect`` on the series cut at each period (detectors may do it faster)."""
        return {p: self.detect(series.upto(p)) for p in periods}

    def detect(self, series: MetricSeries) -> list[Finding]:
        """The findings of the series' last period (each detector has its own)."""
        raise NotImplementedError

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
        reason: Note,
        p_value: float | None = None,
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
            p_value=p_value,
        )


def last_is_judged(series: MetricSeries) -> bool:
    return len(series.frame) > 0 and bool(series.judged.iloc[-1])


def run_start(flags: pd.Series) -> pd.Timestamp:
    """First index of the trailing run of True in ``flags`` (whose last item is True)."""
    breaks = flags.index[~flags.to_numpy(dtype=bool)]
    run = flags.index if len(breaks) == 0 else flags.index[flags.index > breaks[-1]]
    start: pd.Timestamp = run[0]
    return start


def is_daily(index: pd.Index) -> bool:
    """True when periods are a day apart (judged by the median gap)."""
    return spaced_daily(wall_hours(index))


def wall_hours(index: pd.Index) -> np.ndarray:
    """Each period's start in whole hours since the epoch, on the wall clock."""
    return wall_clock(index).as_unit("s").asi8 // 3600


def spaced_daily(hours: np.ndarray) -> bool:
    """True when periods starting at ``hours`` (:func:`wall_hours`) are a day apart,
    judged by the median gap."""
    return len(hours) > 1 and 20 <= float(np.median(np.diff(hours))) <= 28


def is_share(series: MetricSeries) -> bool:
    """A rate whose judged values all lie in [0, 1]: a binomial proportion."""
    so_far = share_so_far(series)
    return bool(so_far[-1]) if len(so_far) else not series.additive


def share_so_far(series: MetricSeries) -> np.ndarray:
    """Per period, :func:`is_share` of the series cut there (one pass for a replay)."""
    values = series.value.to_numpy(dtype=float)
    outside = series.judged.to_numpy(dtype=bool) & ~((values >= 0) & (values <= 1))  # NaN too
    shares: np.ndarray = (np.cumsum(outside) == 0) & (not series.additive)
    return shares


def share_variance(
    p: pd.Series | np.ndarray, den: pd.Series | np.ndarray
) -> pd.Series | np.ndarray:
    """Binomial sampling variance p(1-p)/den (NaN where den is not positive)."""
    p = np.clip(p, 0.0, 1.0)
    return p * (1.0 - p) / np.where(den > 0, den, np.nan)


_Level = TypeVar("_Level", pd.Series, float)


def noise_floor(level: _Level) -> _Level:
    """Smallest noise scale allowed at ``level`` (NaN where it is NaN)."""
    if isinstance(level, pd.Series):
        return (REL_FLOOR * level.abs()).clip(lower=ABS_FLOOR)
    return max(REL_FLOOR * abs(level), ABS_FLOOR)


def seasonal_band(series: MetricSeries, sensitivity: Sensitivity) -> pd.DataFrame:
    """Baseline and band for every period, each from earlier judged periods only.

    Columns ``expected``, ``lower``, ``upper``; NaN where there is too little history
    (14 judged periods for daily data, 8 otherwise) and on the day after a holiday.
    """
    return band_frame(series, sensitivity)[["expected", "lower", "upper"]]


def band_frame(series: MetricSeries, sensitivity: Sensitivity) -> pd.DataFrame:
    """:func:`seasonal_band` plus ``model``, the candidate baseline chosen at each period."""
    neighbours = holiday_neighbours(series.judged)
    values = series.value.where(series.judged & ~neighbours)
    history = series.judged.astype(int).cumsum().shift(1, fill_value=0)
    min_history = 14 if is_daily(values.index) else 8
    baseline, model = choose_baseline(values)
    sigma = np.sqrt(_noise_variance(series, values, baseline))
    # a rate's deviations are compared in units of their own noise (a night hour with
    # few sessions is noisier than a busy evening); a count's as they are
    scale = 1.0 if series.additive else np.maximum(sigma, noise_floor(baseline))
    half = np.maximum(Z[sensitivity] * sigma, scale * _past_week_max((values - baseline) / scale))
    # Only the day after a holiday goes unjudged: the day before is judged before the
    # holiday is known, and the band of a period must not depend on later ones.
    day_after = neighbours & ~series.judged.shift(1, fill_value=True).astype(bool)
    expected = baseline.where((history >= min_history) & ~day_after)
    half = np.maximum(half, noise_floor(expected))
    return pd.DataFrame(
        {"expected": expected, "lower": expected - half, "upper": expected + half, "model": model}
    )


def holiday_neighbours(judged: pd.Series) -> pd.Series:
    """Daily periods next to a run of unjudged ones inside the series (public holidays).

    The day before and the day after a holiday are neither ordinary days nor holidays
    (bridge days, catch-up after a long weekend): they are kept out of every baseline,
    and the day after is not judged. Unjudged periods at the end of the series (the
    partial current period, immature ones) are no holiday and have no neighbours.
    Other grains: none.
    """
    flags = judged.to_numpy(dtype=bool)
    if not is_daily(judged.index):
        return pd.Series(False, index=judged.index)
    off = ~flags
    judged_before = np.cumsum(flags) > 0
    judged_after = np.cumsum(flags[::-1])[::-1] > 0
    gap = off & judged_before & judged_after  # inside the series, not trailing
    after = flags & np.concatenate([[False], gap[:-1]])
    before = flags & np.concatenate([gap[1:], [False]])
    return pd.Series(after | before, index=judged.index)


def _past_week_max(z: pd.Series) -> pd.Series:
    """Sub-daily data: the largest deviation ``z`` of the week before each period.

    With hundreds of periods a day, a band that a normal period leaves with
    probability 0.3 % is still left a few times a day. A deviation must also beat
    every deviation of the past week: as many alerts per week as a daily metric.
    """
    season = season_of(z.index)
    if season is None or is_daily(z.index):
        return pd.Series(0.0, index=z.index)
    week = z.abs().shift(1).rolling(7 * season, min_periods=season).max()
    return week.fillna(0.0)


def _noise_variance(series: MetricSeries, values: pd.Series, expected: pd.Series) -> pd.Series:
    resid = values - expected
    sampling = _sampling_variance(series, expected, resid)
    resid_var = (MAD_TO_SIGMA * trailing(resid, WINDOW, _mad)) ** 2
    typical = trailing(sampling.where(resid.notna()), WINDOW, nanmedian_rows)
    return (resid_var - typical).clip(lower=0.0) + sampling


def _sampling_variance(series: MetricSeries, expected: pd.Series, resid: pd.Series) -> pd.Series:
    den = series.den.where(series.den > 0)
    if series.additive:
        return pd.Series(0.0, index=expected.index)
    if is_share(series):
        return pd.Series(share_variance(expected, den), index=expected.index)
    scale = trailing(resid**2 * den, WINDOW, nanmedian_rows) / CHI2_1_MEDIAN
    return scale / den


def _mad(windows: np.ndarray) -> np.ndarray:
    return nanmedian_rows(np.abs(windows - nanmedian_rows(windows)[:, None]))


def severity_of(score: float, warning: float, critical: float) -> Severity:
    """INFO below ``warning``, WARNING up to ``critical``, CRITICAL beyond."""
    if score >= critical:
        return Severity.CRITICAL
    return Severity.WARNING if score >= warning else Severity.INFO
