"""What the lattice search is asked to explain: a move of the rate, or of the population.

Each problem is the actual and expected value of every leaf and the noise they carry
(``noise.py``). For an additive metric, or the rate of a ratio metric, it is the
numerator against its expectation at the leaf's actual denominator (``rate_problem``);
for the population of a ratio metric, the denominator against its expected share of
the actual total (``mix_problem``).
"""

from __future__ import annotations

import numpy as np

from agent.attribute.noise import Noise, fit_noise

__all__ = ["Problem", "mix_problem", "rate_problem"]

Problem = tuple[np.ndarray, np.ndarray, Noise]
"""(actual, expected, noise) per leaf."""


def rate_problem(values: np.ndarray, additive: bool) -> Problem:
    """The numerator: the rate move for a ratio metric (``values``: leaves × LEAF_COLUMNS)."""
    n0, d0, n1, d1 = values.T
    if additive:
        size = (np.abs(n1) + np.abs(n0)) / 2  # symmetric: noise in n0 must not set weights
        return n1, n0, fit_noise(n1, n0, size, size)
    overall = n0.sum() / d0.sum() if d0.sum() > 0 else n1.sum() / max(d1.sum(), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        r0 = np.where(d0 > 0, n0 / d0, overall)
        r1 = np.where(d1 > 0, n1 / d1, r0)
    expected = d1 * r0
    if np.all((r0 >= 0) & (r0 <= 1) & (r1 >= 0) & (r1 <= 1)):
        pooled = (n0 + n1 + overall) / (d0 + d1 + 1)
        base = d1 * pooled * (1 - pooled)  # binomial; a common effect shifts the log-odds
        errors = (base, d1 * pooled, d1 * (1 - pooled))
        return n1, expected, fit_noise(n1, expected, base, base, errors)
    return n1, expected, fit_noise(n1, expected, d1, d1)  # a common shift of the rate


def mix_problem(values: np.ndarray) -> Problem:
    """The denominator, expected at the actual total size."""
    d0, d1 = values[:, 1], values[:, 3]
    expected = d0 * (d1.sum() / d0.sum()) if d0.sum() > 0 else d0
    return d1, expected, fit_noise(d1, expected, (np.abs(d1) + np.abs(expected)) / 2, expected)
