"""Evidence that accumulates: how surprising a series' level is since a recent onset.

A move that lasts is graded on everything it has shown since it began, not on its
last period alone (DESIGN §4). For a period T and each candidate onset k among the
last ``window.scan`` periods, the statistic compares the mean since k with the mean of
the ``window.reference`` periods before k, both on values without their weekday
profile (daily data), against the noise of that difference::

    z_k = (mean_{k..T} winsorized(x_t - ref_k)) / sqrt(var(mean after) + var(ref_k))

* **Noise.** :mod:`agent.detect.noise` fits each column's noise (sampling at each
  period's denominator plus autocorrelated extra noise) on the ``window.noise`` periods
  before the first candidate onset. What it fitted is uncertain, so z is read through a
  t distribution with the fit's degrees of freedom (Satterthwaite's, by the fitted
  share of the variance) and given as the normal z of the same tail.
* **Blips do not accumulate.** Each period's deviation is winsorized at ``c`` of its own
  noise sigma, with ``c`` chosen so that ``window.min_run`` periods at ``c`` reach the
  evidence the caller needs (its p-value) with ``MARGIN`` to spare, and fewer periods
  cannot: a move must last ``min_run`` periods (3 days) to be news, however wild its
  first ones, while a move that lasts keeps all its evidence up to ``c`` a period.
  Reference periods are winsorized alike around the reference's median, so a blip
  before an onset does not make the periods after it look shifted.
* **Only a move that goes on.** The last ``2 min_run`` periods must be closer to the
  shifted level than to the reference: once a move is over, its old evidence is not
  news (its episode then recovers).
* **p-value.** The best onset is chosen after looking, so z is the maximum of
  correlated normals (the periods since k nest). Its tail is bounded by Owen's T: the
  chance the first onset's z exceeds m, plus for each longer scan the chance it
  crosses m where the shorter one did not (corr sqrt((n-1)/n)); within 20 % of a
  simulation at m = 3.5-4 over 28 onsets.

Everything is plain numpy over columns (one per watched segment), on the rows of
judged periods: one call judges every segment of a metric at one period.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from agent.detect.noise import Noise, fit_noise, nanmedian, weekday_profile

__all__ = [
    "MARGIN",
    "WINDOWS",
    "Noise",
    "Scan",
    "Window",
    "clip_for",
    "fit_noise",
    "scan",
    "scan_p_value",
]

MARGIN = 1.15
"""``min_run`` periods at the winsorizing limit give this much more than the needed z."""
MIN_P_Z = 1.0
"""Below this z the p-value is not computed (reported as 1)."""


@dataclass(frozen=True)
class Window:
    """Periods scanned for an onset, before each onset for its reference, and before the
    first onset for the noise; at least ``min_noise`` noise and ``min_reference``
    reference periods with values; ``min_run`` periods before a move can be news."""

    scan: int
    reference: int
    noise: int
    min_noise: int
    min_reference: int
    min_run: int


WINDOWS = {
    "day": Window(scan=28, reference=28, noise=56, min_noise=21, min_reference=7, min_run=3),
    "week": Window(scan=8, reference=8, noise=16, min_noise=8, min_reference=4, min_run=1),
    "month": Window(scan=6, reference=6, noise=12, min_noise=6, min_reference=3, min_run=1),
}


@dataclass(frozen=True)
class Scan:
    """One direction's evidence at one period, per column (NaN / -1 where none)."""

    z: np.ndarray
    """The strongest accumulated z in this direction (positive = stronger evidence)."""
    p: np.ndarray
    """Its p-value, corrected for the onsets scanned."""
    onset: np.ndarray
    """Row of the strongest onset."""
    periods: np.ndarray
    """Periods with values from that onset to T."""
    after: np.ndarray
    """Mean value since the onset."""
    before: np.ndarray
    """Mean value of the reference periods, on the same weekdays as ``after``."""
    expected: np.ndarray
    """What period T alone was expected to be (reference level + T's weekday profile)."""
    sigma: np.ndarray
    """Noise sigma of period T alone (sampling at T's denominator included)."""
    spike: np.ndarray
    """Period T's own z against the latest onset's reference, not winsorized."""


def scan(
    values: np.ndarray,
    den: np.ndarray,
    *,
    at: int,
    weekday: np.ndarray | None,
    noise: str,
    window: Window,
    needed: float,
    calendar: np.ndarray | None = None,
) -> tuple[Scan, Scan]:
    """(down, up) evidence at row ``at`` of each column of ``values`` (rows: judged
    periods in order, NaN where a column has no value; later rows are ignored).

    ``noise`` is ``share``, ``ratio`` or ``additive`` (the sampling model);
    ``weekday`` per row (Monday 0) for daily data, else None; ``needed`` the p-value
    the caller alerts at (it sets the winsorizing limit, :func:`clip_for`);
    ``calendar`` the period number of each row when rows skip periods (unjudged ones):
    onsets are then among the last ``window.scan`` periods of the calendar and each
    reference among the ``window.reference`` periods before its onset, so neither
    reaches back across weeks of unjudged periods.
    """
    y = np.asarray(values[: at + 1], dtype=float)
    d = np.asarray(den[: at + 1], dtype=float)
    when = np.arange(at + 1) if calendar is None else np.asarray(calendar[: at + 1])
    recent = int(np.argmax(when > when[at] - window.scan))
    first = max(at - window.scan + 1, _first_onset(y, window), recent)
    if first > at:
        return _empty(y.shape[1]), _empty(y.shape[1])
    hist = slice(max(first - window.noise, 0), first)
    profile = weekday_profile(y[hist], None if weekday is None else weekday[hist])
    shift = 0.0 if profile is None or weekday is None else profile[weekday[: at + 1]]
    x = y - shift
    clip = clip_for(needed, window)
    model = fit_noise(x[hist], y[hist], d[hist], noise, clip)
    starts = np.searchsorted(when, when - window.reference)  # each row's reference start
    return _best(x, y, model.sampling(d), model, (first, at, starts), window, clip, shift)


@functools.lru_cache(maxsize=256)
def clip_for(needed: float, window: Window) -> float:
    """The winsorizing limit, in noise sigmas, at which ``window.min_run`` periods give
    ``MARGIN`` times the z whose p-value is ``needed`` (infinite when one period may)."""
    if window.min_run <= 1:
        return math.inf
    lo, hi = 0.0, 40.0
    for _ in range(60):  # bisection: the p-value falls as z grows
        mid = (lo + hi) / 2
        if scan_p_value(np.array([mid]), window.scan)[0] > needed:
            lo = mid
        else:
            hi = mid
    return MARGIN * hi * math.sqrt(1 / window.min_run + 1 / window.reference)


def scan_p_value(z: np.ndarray, onsets: int) -> np.ndarray:
    """Upper bound of P(max over ``onsets`` nested scans of z > ``z``) for white noise."""
    # imported on use: see agent/__init__.py
    from scipy.special import ndtr, owens_t

    z = np.asarray(z, dtype=float)
    out = np.ones_like(z)
    big = np.isfinite(z) & (z > MIN_P_Z)
    if big.any():
        n = np.arange(2, max(onsets, 1) + 1, dtype=float)
        rho = np.sqrt((n - 1) / n)
        a = np.sqrt((1 - rho) / (1 + rho))
        tail = ndtr(-z[big]) + 2 * owens_t(z[big][:, None], a[None, :]).sum(axis=1)
        out[big] = np.minimum(tail, 1.0)
    return out


def _best(
    x: np.ndarray,
    y: np.ndarray,
    sampling: np.ndarray,
    model: Noise,
    span: tuple[int, int, np.ndarray],
    window: Window,
    clip: float,
    shift: np.ndarray | float,
) -> tuple[Scan, Scan]:
    """The strongest onset from ``span[0]`` to ``span[1]`` in each direction; the
    reference of onset k starts at row ``span[2][k]``."""
    first, at, starts = span
    cols = x.shape[1]
    present = np.isfinite(x)
    s = np.where(present, sampling, 0.0)
    sigma = np.sqrt(model.extra + s + model.floor)
    z = np.full((at - first + 1, cols), np.nan)
    raw = np.full_like(z, np.nan)
    ref = np.full_like(z, np.nan)
    for row, k in enumerate(range(first, at + 1)):
        lo = int(starts[k])
        count = present[lo:k].sum(axis=0)
        ref_k = _robust_mean(x[lo:k], clip * sigma[lo:k])
        ref_var, ref_extra, ref_fit = model.of_mean(s[lo:k].sum(axis=0), count)
        dev = x[k : at + 1] - ref_k
        bound = clip * sigma[k : at + 1]
        n = present[k : at + 1].sum(axis=0)
        clipped = np.clip(dev, -bound, bound)
        mean = np.nansum(clipped, axis=0) / np.maximum(n, 1)
        var, extra, fit = model.of_mean(s[k : at + 1].sum(axis=0), n)
        ok = (count >= window.min_reference) & (n > 0) & present[at]
        ok &= _lasting(dev, 2 * window.min_run)
        dof = model.dof_of(var + ref_var, extra + ref_extra, fit + ref_fit)
        with np.errstate(divide="ignore", invalid="ignore"):
            z[row] = np.where(ok, _as_normal(mean / np.sqrt(var + ref_var), dof), np.nan)
            if k == at:  # one period, not winsorized
                raw[row] = np.where(ok, _as_normal(dev[-1] / np.sqrt(var + ref_var), dof), np.nan)
        ref[row] = ref_k
    spike = raw[-1]
    onsets = at - first + 1
    out = []
    for sign in (-1.0, 1.0):
        signed = np.where(np.isfinite(z), sign * z, -np.inf)
        best = np.argmax(signed, axis=0)
        strength = signed[best, np.arange(cols)]
        strength = np.where(np.isfinite(strength), strength, np.nan)
        onset = first + best
        periods, after, before = _levels(y, x, ref[best, np.arange(cols)], onset, at)
        out.append(
            Scan(
                z=strength,
                p=scan_p_value(strength, onsets),
                onset=np.where(np.isfinite(strength), onset, -1),
                periods=periods,
                after=after,
                before=before,
                expected=ref[-1] + _at(shift, at, cols),
                sigma=sigma[at],
                spike=sign * spike,
            )
        )
    return out[0], out[1]


def _robust_mean(x: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Per column, the mean of its rows winsorized at ``bound`` around their median: a
    wild period in a reference moves it no more than a period at the limit would."""
    centre = nanmedian(x)
    clipped = centre + np.clip(x - centre, -bound, bound)
    mean: np.ndarray = np.nansum(clipped, axis=0) / np.maximum(np.isfinite(clipped).sum(axis=0), 1)
    return mean


def _lasting(dev: np.ndarray, run: int) -> np.ndarray:
    """Whether the last ``run`` deviations are still closer to the mean deviation since
    the onset than to the reference (0): a move that is over is no news."""
    seen = np.isfinite(dev)
    mean = np.nansum(dev, axis=0) / np.maximum(seen.sum(axis=0), 1)
    recent = np.nansum(dev[-run:], axis=0) / np.maximum(seen[-run:].sum(axis=0), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        going: np.ndarray = recent / mean >= 0.5
    return going


def shift_z(
    model: Noise, shift: float, after: tuple[float, int], before: tuple[float, int]
) -> float:
    """The z of a shift between two means of one column, each given as (sum of its
    periods' sampling variances, periods), read through the fit's t distribution."""
    var_a, extra_a, fit_a = model.of_mean(np.array([after[0]]), np.array([float(after[1])]))
    var_b, extra_b, fit_b = model.of_mean(np.array([before[0]]), np.array([float(before[1])]))
    var = var_a + var_b
    dof = model.dof_of(var, extra_a + extra_b, fit_a + fit_b)
    return float(_as_normal(shift / np.sqrt(var), dof)[0])


def _as_normal(t: np.ndarray, dof: np.ndarray) -> np.ndarray:
    """The normal z with the same tail as ``t`` under a t distribution with ``dof``."""
    # imported on use: see agent/__init__.py
    from scipy.special import ndtri, stdtr

    with np.errstate(invalid="ignore"):
        tail = stdtr(np.minimum(dof, 1e7), -np.abs(t))
        z: np.ndarray = np.sign(t) * -ndtri(np.maximum(tail, 1e-300))
        return z


def _levels(
    y: np.ndarray,
    x: np.ndarray,
    ref: np.ndarray,
    onset: np.ndarray,
    at: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: periods with values from its onset to ``at``, their mean value, and
    the reference level on the same weekdays (reference + their mean weekday profile)."""
    seen = np.isfinite(y)
    zero = np.zeros((1, y.shape[1]))
    count = np.concatenate([zero, np.cumsum(seen, axis=0)])
    total = np.concatenate([zero, np.cumsum(np.where(seen, y, 0.0), axis=0)])
    season = np.concatenate([zero, np.cumsum(np.where(seen, y - x, 0.0), axis=0)])
    cols = np.arange(y.shape[1])
    start = np.clip(onset, 0, at)
    n = count[at + 1] - count[start, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        after = (total[at + 1] - total[start, cols]) / n
        before = ref + (season[at + 1] - season[start, cols]) / n
    return n.astype(int), after, before


def _at(shift: np.ndarray | float, at: int, cols: int) -> np.ndarray:
    if isinstance(shift, float):
        return np.full(cols, shift)
    return np.asarray(shift[at], dtype=float)


def _first_onset(y: np.ndarray, window: Window) -> int:
    """The first row that may be an onset: ``min_noise`` rows with values before it
    (counted on the column with most data) and enough for a reference."""
    seen = np.isfinite(y).any(axis=1).cumsum()
    enough = np.flatnonzero(seen >= window.min_noise)
    return int(enough[0]) + 1 if len(enough) else len(y)


def _empty(cols: int) -> Scan:
    nan = np.full(cols, np.nan)
    return Scan(nan, np.ones(cols), np.full(cols, -1), np.zeros(cols, int), nan, nan, nan, nan, nan)
