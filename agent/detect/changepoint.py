"""Change points in the level of a series (ruptures PELT).

The judged values (the last ``MAX_PERIODS``) lose their weekly profile when daily, then
PELT (L2 cost, segments of at least ``MIN_SIZE``) with a penalty of
``PENALTY_K * sigma^2 * log(n)`` splits them into levels. ``sigma`` is the robust
period-to-period noise (from first differences), never below the binomial sampling
noise of a share. Only the last change is news, and only while its onset is within
``recent`` periods of the end: older regime changes are history. ``value`` is the mean
after the change, ``expected`` the mean of up to ``BEFORE`` periods before it, and
``score`` the shift in sigmas: INFO below 3, WARNING from 3, CRITICAL from 6.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
import pandas as pd
import ruptures as rpt
from pydantic import BaseModel, ConfigDict, Field

from agent.cube import MetricSeries
from agent.detect.bands import (
    DetectorBase,
    is_daily,
    is_share,
    last_is_judged,
    noise_floor,
    severity_of,
    share_variance,
    wall_clock,
)
from agent.model import Direction, Finding

__all__ = [
    "ChangePointDetector",
    "ChangePointSpec",
    "deseasonalize",
    "last_change",
    "noise_sigma",
]

MAX_PERIODS = 120
MIN_PERIODS = 14
MIN_SIZE = 3
PENALTY_K = 4.0
BEFORE = 28
"""Periods before the change that make the 'before' level."""
BAND = 3.0
"""lower/upper = before level +- BAND sigma."""


class ChangePointSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_shift: float = Field(0.0, ge=0)
    recent: int = Field(7, ge=1)


class ChangePointDetector(DetectorBase[ChangePointSpec]):
    kind: ClassVar[str] = "change_point"
    spec_type: ClassVar[type[BaseModel]] = ChangePointSpec

    def detect(self, series: MetricSeries) -> list[Finding]:
        if not last_is_judged(series):
            return []
        judged = series.judged.to_numpy(dtype=bool)
        level = deseasonalize(series.value[judged].iloc[-MAX_PERIODS:])
        if len(level) < MIN_PERIODS:
            return []
        sigma = noise_sigma(level, series.den[judged].iloc[-MAX_PERIODS:], is_share(series))
        onset = last_change(level.to_numpy(), sigma)
        if onset is None or len(level) - onset > self.spec.recent:
            return []
        before = float(level.iloc[max(0, onset - BEFORE) : onset].mean())
        after = float(level.iloc[onset:].mean())
        direction = Direction.UP if after > before else Direction.DOWN
        if abs(after - before) < self.spec.min_shift or not self.reports(direction):
            return []
        score = abs(after - before) / sigma
        since = level.index[onset]
        return [
            self.finding(
                series,
                value=after,
                expected=before,
                band=(before - BAND * sigma, before + BAND * sigma),
                direction=direction,
                severity=severity_of(score, 3.0, 6.0),
                score=score,
                since=since,
                reason=(
                    f"level moved {direction} from {before:.4g} to {after:.4g} "
                    f"since {since:%Y-%m-%d} ({score:.1f} sigma)"
                ),
            )
        ]


def deseasonalize(values: pd.Series) -> pd.Series:
    """Daily values minus their weekday profile (the per-weekday median residual
    around a centred 7-day rolling median); other grains unchanged."""
    if not is_daily(values.index) or len(values) < 28:
        return values
    resid = values - values.rolling(7, center=True, min_periods=1).median()
    weekday = pd.Series(wall_clock(values.index).day_of_week, index=values.index)
    profile = resid.groupby(weekday).median()
    profile -= profile.mean()
    return values - weekday.map(profile)


def noise_sigma(level: pd.Series, den: pd.Series, share: bool) -> float:
    """Robust period-to-period noise: MAD of first differences / (0.6745 sqrt 2),
    at least the median binomial noise of a share, never zero."""
    diff = level.diff().dropna().to_numpy()
    sigma = float(np.median(np.abs(diff - np.median(diff)))) / (0.6745 * math.sqrt(2))
    if share:
        sampling = share_variance(level, den.set_axis(level.index)).median()
        sigma = max(sigma, math.sqrt(sampling)) if not math.isnan(sampling) else sigma
    return max(sigma, float(noise_floor(float(level.median()))))


def last_change(signal: np.ndarray, sigma: float) -> int | None:
    """Index of the first period of the last level found by PELT, or None."""
    penalty = PENALTY_K * sigma**2 * math.log(len(signal))
    # KernelCPD with a linear kernel is PELT with the L2 cost, compiled: the same
    # breakpoints as rpt.Pelt(model="l2", jump=1) at a few hundredths of its time.
    algo = rpt.KernelCPD(kernel="linear", min_size=MIN_SIZE).fit(signal.reshape(-1, 1))
    breaks = algo.predict(pen=penalty)
    return breaks[-2] if len(breaks) > 1 else None
