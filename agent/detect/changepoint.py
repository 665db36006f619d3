"""Change points in the level or trend of a series.

:func:`change_points` is the one default configuration, the same for every metric:

1. **Spikes out.** A value further than ``SPIKE_Z`` noise sigmas from the median of the
   ``SPIKE_WINDOW`` periods around it is replaced by that median (a Hampel filter, taken
   around the series' straight line so that a trend keeps its ends), so a blip of up to
   three periods never looks like a new regime while a lasting step does.
2. **Regimes.** An exact penalised segmentation (:func:`segment`, the optimum of
   ruptures' PELT on the same costs) splits the values into segments of at least ``MIN_SIZE``
   periods, each fitted by a level or, when it pays for its extra parameter, a level and a
   trend (:func:`segment_costs`): a steady drift is one regime, not a staircase.
3. **Penalty scaled to the noise.** Each fitted parameter costs
   ``PARAM_PENALTY * sigma^2 * log(n)`` (a change brings two, its place and new level; a
   trend one), with ``sigma`` first the spread of the values around one straight line, the
   model of "no change" (never below the caller's own noise estimate): a change must stand
   out against the whole window. When the residuals of that segmentation are
   autocorrelated, their effective sigma (:func:`effective_sigma`) may be wider still; the
   search then runs again with it, so a cycle is not cut into regimes.
4. **Bends are not changes.** A change whose regimes meet at its onset and part only
   slowly (:func:`drop_small_changes`) is dropped: a smooth curve is one regime.

:class:`ChangePointDetector` applies it to the judged values (the last ``MAX_PERIODS``,
without their weekly profile when daily). Only the last change is news, and only while
its onset is within ``recent`` periods of the end: older regime changes are history.
``value`` is the mean after the change, ``expected`` the mean of the regime before it
(its last ``BEFORE`` periods at most). The change is graded on all it has shown
(:func:`accumulated`): ``score`` is the shift against the noise of the two means (the
periods since the onset and those before it, each with its sampling noise and the
autocorrelation of the rest), and its p-value, corrected for the onsets a scan could
have picked, gives the severity as for the anomaly detector's moves that last
(:func:`agent.detect.sustained.severity_of_p` at medium sensitivity).
"""

from __future__ import annotations

import itertools
import math
from typing import ClassVar

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import BaseModel, ConfigDict, Field

from agent.cube import MetricSeries
from agent.detect.bands import (
    DetectorBase,
    last_is_judged,
    noise_floor,
    share_so_far,
    share_variance,
    spaced_daily,
    wall_clock,
    wall_hours,
)
from agent.detect.evidence import WINDOWS, scan_p_value, shift_z
from agent.detect.noise import fit_noise
from agent.detect.sustained import grain_of, severity_of_p
from agent.model import Direction, Finding, FindingKind, Note

__all__ = [
    "ChangePointDetector",
    "ChangePointSpec",
    "change_points",
    "deseasonalize",
    "noise_sigma",
    "segment_costs",
]

MAX_PERIODS = 120
MIN_PERIODS = 14
MIN_SIZE = 5
"""Shortest regime: a change is judged once it has lasted this many periods."""
PARAM_PENALTY = 1.5
"""Cost of one fitted parameter, in sigma^2 log(n) (BIC would say 1)."""
SPIKE_WINDOW = 7
SPIKE_Z = 3.0
MAX_AUTOCORRELATION = 0.99
"""Bounds the residuals' lag-1 autocorrelation (a penalty at most 199 times wider)."""
MIN_JUMP = 0.2
MIN_BEND = 10.0
"""A change moves the level by MIN_JUMP or bends the trend by MIN_BEND effective sigmas."""
ROUNDING = 1e-6
"""A spread below this share of the values' size is rounding, not noise."""
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
    finding_kinds: ClassVar[tuple[FindingKind, ...]] = (FindingKind.CHANGE_POINT,)
    tunable: ClassVar[tuple[str, ...]] = ("min_shift",)

    @classmethod
    def band_z(cls, sensitivity: str) -> float | None:
        return BAND

    def detect(self, series: MetricSeries) -> list[Finding]:
        if not last_is_judged(series):
            return []
        return self.detect_periods(series, [series.frame.index[-1]])[series.frame.index[-1]]

    def detect_periods(
        self, series: MetricSeries, periods: list[pd.Timestamp]
    ) -> dict[pd.Timestamp, list[Finding]]:
        """``detect`` at each period, on arrays read once: a replay judges 34 periods of
        each watched segment, and per-period pandas work cost more than the search."""
        index = series.frame.index
        values = series.value.to_numpy(dtype=float)
        den = series.den.to_numpy(dtype=float)
        judged = series.judged.to_numpy(dtype=bool)
        hours, weekday = wall_hours(index), wall_clock(index).day_of_week.to_numpy()
        share = share_so_far(series)
        out: dict[pd.Timestamp, list[Finding]] = {}
        for period, at in zip(periods, index.get_indexer(pd.Index(periods)), strict=True):
            out[period] = []
            if at < 0 or not judged[at]:
                continue
            sel = np.flatnonzero(judged[: at + 1])[-MAX_PERIODS:]
            if len(sel) < MIN_PERIODS:
                continue
            level = deseasonalize(values[sel], weekday[sel], hours[sel])
            sigma = noise_sigma(level, den[sel], bool(share[at]))
            onsets = change_points(level, noise=sigma)
            if onsets and len(level) - onsets[-1] <= self.spec.recent:
                cut = series.upto(period)
                kind = "additive" if series.additive else "share" if share[at] else "ratio"
                regimes = (onsets[-2] if len(onsets) > 1 else 0, onsets[-1])
                graded = (values[sel], den[sel], kind)
                out[period] = self._finding(cut, pd.Series(level, index[sel]), regimes, graded)
        return out

    def _finding(
        self,
        series: MetricSeries,
        level: pd.Series,
        regimes: tuple[int, int],
        graded: tuple[np.ndarray, np.ndarray, str],
    ) -> list[Finding]:
        previous, onset = regimes
        before = float(level.iloc[max(previous, onset - BEFORE) : onset].mean())
        after = float(level.iloc[onset:].mean())
        direction = Direction.UP if after > before else Direction.DOWN
        if abs(after - before) < self.spec.min_shift or not self.reports(direction):
            return []
        score, sigma = accumulated(level.to_numpy(), *graded, regimes)
        scanned = WINDOWS[grain_of(level.index) or "day"].scan
        p = float(scan_p_value(np.array([score]), scanned)[0])
        since = level.index[onset]
        return [
            self.finding(
                series,
                value=after,
                expected=before,
                band=(before - BAND * sigma, before + BAND * sigma),
                direction=direction,
                severity=severity_of_p(p, "medium"),
                score=score,
                since=since,
                reason=Note(
                    f"reason_change_point_{direction}",
                    {"before": before, "after": after, "since": since, "sigma": score},
                ),
                p_value=p,
            )
        ]


def accumulated(
    level: np.ndarray,
    values: np.ndarray,
    den: np.ndarray,
    kind: str,
    regimes: tuple[int, int],
) -> tuple[float, float]:
    """(shift in sigmas of its own noise, one period's noise sigma) of the change at
    ``regimes[1]`` (the previous one at ``regimes[0]``): the mean of ``level`` since the
    onset against the mean of up to ``BEFORE`` periods before it, with the noise
    (:func:`agent.detect.noise.fit_noise`) of the periods before the onset.
    """
    previous, onset = regimes
    lo = max(previous, onset - BEFORE)
    hist = slice(max(0, onset - WINDOWS["day"].noise), onset)
    model = fit_noise(level[hist, None], values[hist, None], den[hist, None], kind, math.inf)
    sampling = np.nan_to_num(model.sampling(den[:, None])[:, 0])
    after, before = level[onset:], level[lo:onset]
    shift = abs(float(after.mean()) - float(before.mean()))
    z = shift_z(
        model,
        shift,
        (float(sampling[onset:].sum()), len(after)),
        (float(sampling[lo:onset].sum()), len(before)),
    )
    one = float(model.extra[0] + np.median(sampling[hist]) + model.floor[0])
    return z, math.sqrt(one)


def change_points(values: np.ndarray, noise: float = 0.0) -> list[int]:
    """Onsets (index of each new regime's first value) of the default configuration.

    ``values`` is one series without gaps; ``noise`` is a lower bound for its noise
    sigma that the caller knows better (the sampling noise of a share, say).
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2 * MIN_SIZE:
        return []
    clean = despike(values, max(diff_sigma(values), noise))
    scale = max(null_sigma(clean), noise, ROUNDING * float(np.abs(values).max()))
    if not scale > 0:  # all zero
        return []
    y = (clean - clean.mean()) / scale
    per_param = PARAM_PENALTY * math.log(n)
    onsets = segment(y, per_param)
    if not onsets:  # a wider penalty fits no more parameters
        return []
    inflation = effective_sigma(y, onsets, segment_fits(y, onsets, per_param)) ** 2
    if inflation > 1:
        per_param *= inflation
        onsets = segment(y, per_param)
    return drop_small_changes(y, onsets, per_param)


def segment(y: np.ndarray, per_param: float) -> list[int]:
    """Onsets minimising the total segment cost (:func:`segment_costs`) plus two
    ``per_param`` per change (its place and new level), every segment at least
    ``MIN_SIZE`` long.

    The exact optimal partitioning over the cost table, one vectorised minimum per end,
    ties going to the earliest onset. ruptures' PELT on the same costs copies a dict per
    candidate split (23 ms a series, over half of a daily run whose metric watches 22
    segments), and its pruning assumes a condition this cost does not always meet: on 1
    of 60 random series it returned a costlier segmentation.
    """
    n = len(y)
    # summed as ruptures sums them: a segment's cost less one parameter, plus three
    # (a segment more is a change more), so totals and ties are the same to the last bit
    costs = (segment_costs(y, per_param) - per_param) + 3 * per_param
    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    start = np.zeros(n + 1, dtype=int)
    starts = np.r_[0, MIN_SIZE : n + 1]  # where a segment may start
    for end in range(MIN_SIZE, n + 1):
        allowed = starts[: max(end - 2 * MIN_SIZE + 2, 1)]  # leaving MIN_SIZE periods
        totals = best[allowed] + costs[allowed, end]
        k = int(np.argmin(totals))
        best[end], start[end] = totals[k], allowed[k]
    onsets, end = [], n
    while (end := int(start[end])) > 0:
        onsets.append(end)
    return onsets[::-1]


def segment_fits(y: np.ndarray, onsets: list[int], trend_penalty: float) -> list[np.ndarray]:
    """Each segment's (slope, intercept) over the series' periods, slope 0 unless a
    trend pays its ``trend_penalty``."""
    cuts = [0, *onsets, len(y)]
    fits = []
    for start, stop in itertools.pairwise(cuts):
        t = np.arange(start, stop, dtype=float)
        part = y[start:stop]
        line = np.polyfit(t, part, 1)
        trend_cost = float(np.sum((part - np.polyval(line, t)) ** 2)) + trend_penalty
        level_cost = float(np.sum((part - part.mean()) ** 2))
        fits.append(line if trend_cost < level_cost else np.array([0.0, part.mean()]))
    return fits


def effective_sigma(y: np.ndarray, onsets: list[int], fits: list[np.ndarray]) -> float:
    """Residual sigma of the segmentation, widened for the lag-1 autocorrelation ``phi``
    of its residuals by ``sqrt((1 + phi) / (1 - phi))`` (the sigma of a mean of AR(1)
    noise): a cycle or a smooth curve that the segments follow leaves slow residuals,
    whose wanderings a white-noise penalty would take for changes."""
    cuts = [0, *onsets, len(y)]
    parts = [
        y[start:stop] - np.polyval(fit, np.arange(start, stop))
        for (start, stop), fit in zip(itertools.pairwise(cuts), fits, strict=True)
    ]
    squares = sum(float(part @ part) for part in parts)
    if not squares > 0:
        return 0.0
    lagged = sum(float(part[1:] @ part[:-1]) for part in parts)
    phi = min(max(lagged / squares, 0.0), MAX_AUTOCORRELATION)
    variance = squares / max(len(y) - 2 * len(parts), 1)
    return math.sqrt(variance * (1 + phi) / (1 - phi))


def drop_small_changes(y: np.ndarray, onsets: list[int], trend_penalty: float) -> list[int]:
    """Onsets less those, smallest first, whose regimes meet at the onset (a jump below
    ``MIN_JUMP`` effective sigmas) and part by less than ``MIN_BEND`` effective sigmas over
    the shorter of the two: bends of one smooth curve, not changes."""
    onsets = list(onsets)
    while onsets:
        fits = segment_fits(y, onsets, trend_penalty)
        sigma = max(effective_sigma(y, onsets, fits), ROUNDING)
        cuts = [0, *onsets, len(y)]
        sizes = []
        for i, onset in enumerate(onsets):
            jump = abs(np.polyval(fits[i + 1], onset) - np.polyval(fits[i], onset))
            reach = min(onset - cuts[i], cuts[i + 2] - onset)
            bend = abs(fits[i + 1][0] - fits[i][0]) * reach
            sizes.append(max(jump / MIN_JUMP, bend / MIN_BEND) / sigma)
        smallest = int(np.argmin(sizes))
        if sizes[smallest] >= 1:
            break
        del onsets[smallest]
    return onsets


def segment_costs(y: np.ndarray, trend_penalty: float) -> np.ndarray:
    """``cost[start, end]`` of the segment ``y[start:end]``: squared residuals around its
    mean, or around its least-squares line plus ``trend_penalty`` when that is smaller.
    All segments at once from prefix sums (entries with ``end <= start`` are meaningless).
    """
    n = len(y)
    t = np.arange(n, dtype=float) - (n - 1) / 2
    columns = np.stack([np.ones_like(y), t, t * t, y, t * y, y * y])
    sums = np.concatenate([np.zeros((6, 1)), np.cumsum(columns, axis=1)], axis=1)
    m, st, stt, sy, sty, syy = sums[:, None, :] - sums[:, :, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        level = syy - sy * sy / m
        var_t = stt - st * st / m
        explained = np.where(var_t > 0, (sty - st * sy / m) ** 2 / var_t, 0.0)
    cost: np.ndarray = np.maximum(np.minimum(level, level - explained + trend_penalty), 0.0)
    return cost


def despike(values: np.ndarray, sigma: float) -> np.ndarray:
    """Values further than ``SPIKE_Z * sigma`` from the median of the centred window
    around them (shortened at the ends) become that median. Medians are taken around one
    straight line through the series, so the ends of a steady trend are left alone."""
    line = straight_line(values)
    residuals = values - line
    median = centred_median(residuals, SPIKE_WINDOW)
    return np.where(np.abs(residuals - median) > SPIKE_Z * sigma, median + line, values)


def diff_sigma(values: np.ndarray) -> float:
    """Robust period-to-period noise: MAD of first differences / (0.6745 sqrt 2)."""
    diff = np.diff(values)
    return float(np.median(np.abs(diff - np.median(diff)))) / (0.6745 * math.sqrt(2))


def null_sigma(values: np.ndarray) -> float:
    """Residual standard deviation around one straight line (no change at all)."""
    residuals = values - straight_line(values)
    return float(np.sqrt(np.sum(residuals**2) / max(len(values) - 2, 1)))


def straight_line(values: np.ndarray) -> np.ndarray:
    """The least-squares line through ``values`` at each period."""
    t = np.arange(len(values), dtype=float)
    line: np.ndarray = np.polyval(np.polyfit(t, values, 1), t)
    return line


def deseasonalize(values: np.ndarray, weekday: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Daily values minus their weekday profile (the per-weekday median residual
    around a centred 7-day rolling median); other grains unchanged. ``weekday`` and
    ``hours`` (since the epoch, wall clock) say when each value's period starts."""
    if len(values) < 28 or not spaced_daily(hours):
        return values
    resid = values - centred_median(values, 7)
    days = np.unique(weekday)
    profile = np.full(7, np.nan)
    profile[days] = [np.nanmedian(resid[weekday == day]) for day in days]
    profile[days] -= np.mean(profile[days])
    deseasonalized: np.ndarray = values - profile[weekday]
    return deseasonalized


def centred_median(values: np.ndarray, window: int) -> np.ndarray:
    """The median of the ``window`` values centred on each (``window`` odd; fewer at
    the ends), as pandas' centred rolling median with ``min_periods=1``."""
    half = window // 2
    padded = np.pad(values.astype(float), half, constant_values=np.nan)
    medians: np.ndarray = np.nanmedian(sliding_window_view(padded, window), axis=1)
    return medians


def noise_sigma(level: np.ndarray, den: np.ndarray, share: bool) -> float:
    """Robust period-to-period noise (:func:`diff_sigma`), at least the median binomial
    noise of a share, never zero."""
    sigma = diff_sigma(level)
    if share:
        sampling = share_variance(level, den)
        if not np.isnan(sampling).all():
            sigma = max(sigma, math.sqrt(float(np.nanmedian(sampling))))
    return max(sigma, float(noise_floor(float(np.nanmedian(level)))))
