"""How much leaves move by chance: the variance model behind every confidence.

A leaf's residual ``y - f`` (actual minus expected) varies by chance. ``b`` is
its sampling variance up to a constant: binomial ``d p (1 - p)`` for rates in [0, 1],
Poisson ``(|y| + |f|) / 2`` for counts and sums, and the denominator for other ratios
(average order value, NPS). Real data are noisier than sampling alone: forecasts err in
proportion to a leaf's size. So the variance is ``c (α b + β g²)``, where ``g`` is how
much the leaf moves under a unit common effect (its size for counts and sums, its
denominator for other ratios, ``b`` itself for rates, whose effects act on the
log-odds). α, β ≥ 0 are fitted from how the median squared residual grows across size
bins; ``c`` is a robust (median) rescaling over the leaves no cause covers, so the
incident itself does not inflate it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

__all__ = ["Noise", "fit_noise"]

_MEDIAN_CHI2_1 = 0.4549364231195724
"""Median of a chi-square variable with one degree of freedom."""

_BINS = 10
_MIN_LEAVES = 10
_TINY = 1e-12


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
    actual: np.ndarray, expected: np.ndarray, base: np.ndarray, gradient: np.ndarray
) -> Noise:
    """Variance ``α b + β g²`` fitted on the residuals ``actual - expected``.

    ``b`` is the sampling variance shape; ``g²`` is the variance of a common effect of
    unit size (forecast error in proportion to size). α and β ≥ 0 come from a
    least-squares fit on the median squared residual of size bins, in relative terms;
    with too few leaves, α = 1 and β = 0.
    """
    base = np.where(base > 0, base, 0.0)
    sq = gradient.astype(float) ** 2
    alpha, beta = _components(actual - expected, base, sq)
    return Noise(alpha * base + beta * sq, gradient.astype(float))


def _components(resid: np.ndarray, base: np.ndarray, sq: np.ndarray) -> tuple[float, float]:
    keep = base > 0
    if keep.sum() < 3 * _BINS:
        return 1.0, 0.0
    order = np.argsort(base[keep], kind="stable")
    r2, b, f2 = resid[keep] ** 2, base[keep], sq[keep]
    rows = np.array(
        [
            (np.median(b[i]), np.median(f2[i]), np.median(r2[i]))
            for i in np.array_split(order, _BINS)
        ]
    )
    rows = rows[rows[:, 2] > 0]
    if len(rows) < 2:
        return 1.0, 0.0
    design = rows[:, :2] * _MEDIAN_CHI2_1 / rows[:, 2:3]
    (alpha, beta), _ = nnls(design, np.ones(len(rows)))
    return (float(alpha), float(beta)) if alpha + beta > 0 else (1.0, 0.0)
