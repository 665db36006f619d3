"""How much leaves move by chance: the variance model behind every confidence.

A leaf's residual ``y - f`` (actual minus expected) varies by chance. ``b`` is
its sampling variance up to a constant: binomial ``d p (1 - p)`` for rates in [0, 1],
Poisson ``(|y| + |f|) / 2`` for counts and sums, and the denominator for other ratios
(average order value, NPS). Real data are noisier than sampling alone: forecasts err in
proportion to a leaf's size. So the variance is ``c (α b + Σ β_k e_k²)``, where each
``e_k`` is a shape the forecast error may take: the leaf's size for counts and sums,
its denominator for other ratios; for rates ``d p (1 - p)`` (an error on the log-odds)
but also ``d p`` and ``d (1 - p)`` (an error in proportion to the rate, or to its
complement), because an error on the log-odds vanishes as ``p`` nears 0 or 1 while a
forecast of a 99 % success rate still errs by about as much as one of 90 %.
α, β_k ≥ 0 are fitted from how the median squared residual grows across size bins;
``c`` is a robust (median) rescaling over the leaves no cause covers, so the
incident itself does not inflate it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RICH_LEAVES", "Noise", "fit_noise"]

_MEDIAN_CHI2_1 = 0.4549364231195724
"""Median of a chi-square variable with one degree of freedom."""

_BINS = 10
_MIN_LEAVES = 10
_TINY = 1e-12
RICH_LEAVES = 1000
"""From this many leaves on, effects too small to tell apart in a few bins or cells are
measured: the extra shapes of forecast error, the common level of all leaves."""


@dataclass(frozen=True)
class Noise:
    """Per-leaf variance of the residual, and its robust rescaling on a subset of leaves."""

    variance: np.ndarray
    gradient: np.ndarray
    """How much each leaf's expectation moves per unit of a common effect on a segment."""

    def dispersion(self, resid: np.ndarray, where: np.ndarray) -> float:
        """Robust ``c``: median squared Pearson residual over ``where``, made unbiased.

        With fewer than ``_MIN_LEAVES`` leaves to judge from, 1: sampling noise alone.
        """
        keep = where & (self.variance > 0)
        if keep.sum() < _MIN_LEAVES:
            return 1.0
        scale = float(np.median(resid[keep] ** 2 / self.variance[keep]) / _MEDIAN_CHI2_1)
        return max(scale, _TINY)


def fit_noise(
    actual: np.ndarray,
    expected: np.ndarray,
    base: np.ndarray,
    gradient: np.ndarray,
    errors: tuple[np.ndarray, ...] = (),
) -> Noise:
    """Variance ``α b + Σ β_k e_k²`` fitted on the residuals ``actual - expected``.

    ``b`` is the sampling variance shape; the ``e_k`` are the shapes of forecast error
    (``gradient`` when none are given: an error in proportion to a unit common effect).
    α and β_k ≥ 0 come from a least-squares fit on the median squared residual of bins
    of leaves sorted by each shape in turn (by ``b`` alone when there is one error
    shape), in relative terms; with too few leaves,
    α = 1 and β_k = 0. Shapes after the first are fitted only from ``RICH_LEAVES``
    leaves on: with fewer, bins of a handful of leaves cannot tell them apart.
    """
    base = np.where(base > 0, base, 0.0)
    errors = errors or (gradient,)
    errors = errors if len(actual) >= RICH_LEAVES else errors[:1]
    shapes = np.vstack([base, *[e.astype(float) ** 2 for e in errors]])
    coefficients = _components(actual - expected, shapes)
    return Noise(coefficients @ shapes, gradient.astype(float))


def _components(resid: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    fallback: np.ndarray = np.eye(len(shapes))[0]
    keep = shapes[0] > 0
    if keep.sum() < 3 * _BINS:
        return fallback
    data = np.vstack([shapes[:, keep], resid[keep] ** 2])
    orderings = data[:-1] if len(data) > 3 else data[:1]  # one error shape: bins by size alone
    rows = np.hstack([_bin_medians(data[:, _stable_order(o)]) for o in orderings]).T
    rows = rows[rows[:, -1] > 0]
    if len(rows) < 2:
        return fallback
    # imported on use: see agent/__init__.py
    from scipy.optimize import nnls

    coefficients, _ = nnls(rows[:, :-1] * _MEDIAN_CHI2_1 / rows[:, -1:], np.ones(len(rows)))
    return coefficients if coefficients.sum() > 0 else fallback


def _stable_order(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")``, by the faster default sort when there are no ties."""
    order = np.argsort(values)
    if np.any(np.diff(values[order]) == 0):  # ties: keep them in leaf order
        order = np.argsort(values, kind="stable")
    return order


def _bin_medians(data: np.ndarray) -> np.ndarray:
    """Per row of ``data``, the medians of ``_BINS`` consecutive bins (``np.array_split``'s)."""
    size, extra = divmod(data.shape[1], _BINS)
    cut = extra * (size + 1)
    head = data[:, :cut].reshape(len(data), extra, size + 1)
    tail = data[:, cut:].reshape(len(data), _BINS - extra, size)
    return np.hstack([np.median(head, axis=2), np.median(tail, axis=2)])
