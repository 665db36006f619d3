"""The noise of a metric's level, as accumulated evidence needs it (one model per column).

A period's variance is ``extra + sampling_t``:

* **sampling** follows the period's denominator: p(1-p)/den for shares (known once the
  level is), c/den for other ratios (c fitted on past residuals) and 0 for counts;
* **extra** is what the past residuals show beyond sampling (day-level shocks common
  to every unit). A mean of n periods of it keeps its lag-1 autocorrelation ``phi``
  (the variance of a mean of AR(1) noise), so slow wandering is not taken for a shift.
  Sampling noise is independent from period to period unless periods share customers
  (a churn rate over a 14-day window): the lag-1 covariance that ``phi`` leaves
  unexplained is then the sampling noise's own (``sampling_phi``).

Residuals are the history's values, without their weekday profile, around one straight
line, winsorized at the caller's limit of robust sigmas (the deviations judged later
are winsorized alike). What is fitted is uncertain: ``dof`` (the residuals' count,
fewer when autocorrelated) lets the caller widen its tails like a t distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Noise", "fit_noise", "nanmedian", "weekday_profile"]

MAD_TO_SIGMA = 1.4826
MAX_AUTOCORRELATION = 0.8
MAX_SAMPLING_AUTOCORRELATION = 0.95
"""Periods sharing customers correlate more than day-level shocks do: a 14-day window's
consecutive periods share 13/14 of it (0.93)."""
REL_FLOOR = 1e-3
"""Smallest noise sigma, relative to the level (a flat series still has noise)."""
WINSOR = 4.0
"""Residuals count for at most this many robust sigmas when the caller does not clip."""


@dataclass(frozen=True)
class Noise:
    """Per column: variance beyond sampling, its autocorrelation, the sampling model."""

    extra: np.ndarray
    phi: np.ndarray
    """Lag-1 autocorrelation of the extra noise."""
    scale: np.ndarray
    """Sampling variance times den (p(1-p) for shares, c for ratios, 0 for counts)."""
    fitted_scale: bool
    """Whether ``scale`` was fitted on residuals (ratios) rather than known (shares)."""
    dof: np.ndarray
    """Degrees of freedom of the fitted ``scale`` (the residuals' count less the line's)."""
    extra_dof: np.ndarray
    """Degrees of freedom of ``extra``: fewer when it is autocorrelated."""
    floor: np.ndarray
    """Smallest variance of one period."""
    sampling_phi: np.ndarray
    """Lag-1 autocorrelation of the sampling noise: 0 unless the residuals show more
    than the extra noise explains (periods sharing customers, as a churn window does)."""

    def sampling(self, den: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, self.scale / den, np.nan)

    def of_mean(
        self, sampling_sum: np.ndarray, n: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(variance, its extra part, its fitted sampling part) of the mean of ``n``
        consecutive periods whose sampling variances add to ``sampling_sum``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            sampling = sampling_sum / n / n * _ar(self.sampling_phi, n)
            extra = self.extra * _ar(self.phi, n) / n
            floor = self.floor / n
        fitted = sampling if self.fitted_scale else np.zeros_like(sampling)
        return sampling + extra + floor, extra, fitted

    def dof_of(self, var: np.ndarray, extra: np.ndarray, fitted: np.ndarray) -> np.ndarray:
        """Satterthwaite's degrees of freedom of a variance ``var`` holding ``extra`` and
        ``fitted`` sampling variance (each a multiple of one fitted parameter); the rest
        is known exactly."""
        with np.errstate(divide="ignore", invalid="ignore"):
            spread = extra**2 / self.extra_dof + fitted**2 / self.dof
            return np.where(spread > 0, var**2 / spread, np.inf)


def fit_noise(x: np.ndarray, y: np.ndarray, den: np.ndarray, kind: str, clip: float) -> Noise:
    """The noise model of each column from its history rows: ``x`` without the weekday
    profile, ``y`` as measured (the level of a share), ``den`` their denominators;
    ``kind`` is ``share``, ``ratio`` or ``additive``; residuals are winsorized at
    ``clip`` robust sigmas (at most ``WINSOR``)."""
    resid = x - _line(x)
    centre = nanmedian(resid)
    limit = min(clip, WINSOR) * MAD_TO_SIGMA * nanmedian(np.abs(resid - centre))
    resid = centre + np.clip(resid - centre, -limit, limit)
    count = np.isfinite(resid).sum(axis=0)
    dof = np.maximum(count - 2.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = np.nansum(resid**2, axis=0) / dof
    level = nanmedian(y)
    if kind == "share":
        p = np.clip(level, 0.0, 1.0)
        scale = p * (1 - p)
    elif kind == "ratio":
        scale = np.nanmean(resid**2 * np.where(den > 0, den, np.nan), axis=0) * count / dof
    else:
        scale = np.zeros(x.shape[1])
    scale = np.nan_to_num(scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        typical = nanmedian(np.where(den > 0, scale / den, np.nan))
    extra = np.maximum(np.nan_to_num(total) - np.nan_to_num(typical), 0.0)
    cov = _lag_covariance(resid)
    phi = _autocorrelation(cov, np.maximum(extra, total / 4), count)
    sampling_phi = _autocorrelation(
        cov - phi * extra,
        np.maximum(np.nan_to_num(total) - extra, np.nan_to_num(typical) / 4),
        count,
        MAX_SAMPLING_AUTOCORRELATION,
    )
    sampling_phi = np.where(sampling_phi > 2 / np.sqrt(np.maximum(count, 1)), sampling_phi, 0.0)
    floor = (REL_FLOOR * np.nan_to_num(np.abs(level))) ** 2 + 1e-18
    extra_dof = dof * (1 - phi) / (1 + phi)
    return Noise(extra, phi, scale, kind == "ratio", dof, extra_dof, floor, sampling_phi)


def _ar(phi: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The variance of a mean of ``n`` periods of AR(1) noise with lag-1 correlation
    ``phi``, as a multiple of that of ``n`` independent ones."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ar: np.ndarray = (1 + phi) / (1 - phi) - 2 * phi * (1 - phi**n) / (n * (1 - phi) ** 2)
    return ar


def _lag_covariance(resid: np.ndarray) -> np.ndarray:
    """Per column, the mean product of consecutive residuals (0 without any pair)."""
    lagged = resid[1:] * resid[:-1]
    present = np.isfinite(lagged).sum(axis=0)
    cov: np.ndarray = np.where(present > 0, np.nansum(lagged, axis=0) / np.maximum(present, 1), 0.0)
    return cov


def _autocorrelation(
    cov: np.ndarray, variance: np.ndarray, count: np.ndarray, most: float = MAX_AUTOCORRELATION
) -> np.ndarray:
    """Lag-1 autocorrelation of a part of the noise: the residuals' lag-1 covariance
    ``cov`` it accounts for over its ``variance``, less the small-sample bias (about
    -(1 + 4 phi) / n), in [0, ``most``].

    The extra noise is given all the covariance over its variance (at least a quarter
    of all: a small remainder of sampling is no measure of it). The sampling noise, whose
    periods are independent unless they share customers, is given what is left over the
    rest of the variance (at least a quarter of its typical sampling variance), counted
    only when clearly there: beyond two standard errors of a lag-1 autocorrelation of
    independent noise (2 / sqrt(n))."""
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(variance > 0, cov / variance, 0.0)
        phi = phi + (1 + 4 * phi) / np.maximum(count, 1)
    bounded: np.ndarray = np.clip(np.nan_to_num(phi), 0.0, most)
    return bounded


def weekday_profile(y: np.ndarray, weekday: np.ndarray | None) -> np.ndarray | None:
    """(7, columns) median deviation of each weekday from a centred 7-period mean,
    centred on 0; None when not daily."""
    if weekday is None or len(y) < 14:
        return None
    resid = y - _centred_mean(y, 7)
    profile = np.zeros((7, y.shape[1]))
    for day in range(7):
        rows = resid[weekday == day]
        if len(rows) >= 2:
            profile[day] = np.nan_to_num(nanmedian(rows))
    centred: np.ndarray = profile - profile.mean(axis=0)
    return centred


def _centred_mean(y: np.ndarray, width: int) -> np.ndarray:
    """NaN-aware mean of the ``width`` rows centred on each (at least half of them)."""
    half = width // 2
    seen = np.isfinite(y)
    sums = np.concatenate([np.zeros((1, y.shape[1])), np.cumsum(np.where(seen, y, 0), axis=0)])
    counts = np.concatenate([np.zeros((1, y.shape[1])), np.cumsum(seen, axis=0)])
    rows = np.arange(len(y))
    lo, hi = np.clip(rows - half, 0, len(y)), np.clip(rows + half + 1, 0, len(y))
    n = counts[hi] - counts[lo]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n >= (width + 1) // 2, (sums[hi] - sums[lo]) / n, np.nan)


def _line(x: np.ndarray) -> np.ndarray:
    """Each column's least-squares straight line over its rows with values."""
    seen = np.isfinite(x)
    t = np.where(seen, np.arange(len(x), dtype=float)[:, None], 0.0)
    v = np.where(seen, x, 0.0)
    n = seen.sum(axis=0)
    st, sv, stt, stv = t.sum(0), v.sum(0), (t * t).sum(0), (t * v).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(n * stt - st**2 > 0, (n * stv - st * sv) / (n * stt - st**2), 0.0)
        icept = (sv - slope * st) / n
    line: np.ndarray = icept + slope * np.arange(len(x), dtype=float)[:, None]
    return line


def nanmedian(a: np.ndarray) -> np.ndarray:
    """Per column median of the values present (NaN for an empty column)."""
    out = np.full(a.shape[1], np.nan)
    ok = np.isfinite(a).any(axis=0)
    if ok.any():
        out[ok] = np.nanmedian(a[:, ok], axis=0)
    return out
