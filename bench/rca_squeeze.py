"""Semi-synthetic cases in the style of the Squeeze paper's B0–B4 sets.

Written from the paper's description (Li et al., "Generic and Robust Localization of
Multi-Dimensional Root Causes", ISSRE 2019) and the one B0 case its repository ships
(github.com/NetManAIOps/Squeeze, ``data/B_cuboid_layer_1_n_ele_1``); no code or data of
theirs is used. The B sets take one minute of a real CDN measure with 4 attributes
(data centre, province, ISP, channel) and inject root causes into it; each set has 9
settings, ``B_cuboid_layer_{1,2,3}_n_ele_{1,2,3}``: 1–3 root-cause elements, all at
layer 1, 2 or 3, and B0 to B4 differ by the noise of the forecast.

Here the real-like minute is generated (``real_like``): 6 × 34 × 10 × 10 leaves whose
volumes multiply per-value factors of each attribute with two interactions (ISP ×
channel, province × ISP) and a leaf factor, all log-normal, with whole blocks of
leaves at 0 (a channel a data centre does not serve, an ISP absent from a province),
as in the shipped case, where about half of the leaves are 0 and volumes span 5
orders of magnitude. The forecast is that volume; the actual value carries relative
Gaussian noise of ``NOISE[set]`` (B0's 0.8 % is the shipped case's: normal leaves'
absolute error over their forecast total).

Root causes follow the paper's generalized ripple effect: every leaf of an element moves
by the same proportion, a drop or a rise (one direction per case) of magnitude uniform
in [0.1, 0.9] per element. Each element is drawn in its own random cuboid of the
setting's layer, among the cells holding at least ``MIN_SHARE`` of the total (a smaller
one could not move the total visibly); two elements are never nested, but elements in
different cuboids may share leaves (``c=c8`` and ``d=d7``), which then take both moves.
"""

from __future__ import annotations

from itertools import product

import numpy as np

from bench.rca_synthetic import Case, additive_case, coded_name

__all__ = ["NOISE", "SETTINGS", "squeeze_case"]

NOISE = {"B0": 0.01, "B1": 0.02, "B2": 0.04, "B3": 0.06, "B4": 0.08}
"""Relative noise of the actual values around their forecast, per set (B1–B4: ours)."""

SETTINGS = [(layer, count) for layer in (1, 2, 3) for count in (1, 2, 3)]
"""(layer, number of elements) of the B sets' 9 settings."""

CARDS = (6, 34, 10, 10)
SPREAD = (1.0, 1.5, 1.5, 1.0)
"""Log-normal spread of the per-value volume factors of each attribute."""

MIN_SHARE = 0.001
"""Smallest share of the total forecast an element may hold."""


def real_like(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(leaf codes, forecast volume) of one real-like minute."""
    codes = np.array(list(product(*[range(c) for c in CARDS])), dtype=np.int64)
    a, b, c, d = codes.T
    log = sum(rng.normal(0, s, n)[x] for x, n, s in zip(codes.T, CARDS, SPREAD, strict=True))
    log += rng.normal(0, 1.0, (CARDS[2], CARDS[3]))[c, d]
    log += rng.normal(0, 0.7, (CARDS[1], CARDS[2]))[b, c]
    log += rng.normal(0, 0.5, len(codes)) + 2.0
    open_channel = rng.uniform(size=(CARDS[0], CARDS[3])) < 0.7
    isp_present = rng.uniform(size=(CARDS[1], CARDS[2])) < 0.7
    volume = np.exp(log) * open_channel[a, d] * isp_present[b, c]
    return codes, volume


def squeeze_case(rng: np.random.Generator, noise: float, layer: int, count: int) -> Case:
    """One additive case of a B set: ``count`` elements at ``layer``, noise level ``noise``."""
    codes, forecast = real_like(rng)
    actual = forecast * (1 + rng.normal(0, noise, len(forecast)))
    sign = rng.choice([-1.0, 1.0])
    dims = ["a", "b", "c", "d"]
    truth: list[str] = []
    for cuboid, row in _elements(rng, codes, forecast, layer, count):
        mask = np.all(codes[:, cuboid] == row, axis=1)
        actual[mask] *= 1 + sign * rng.uniform(0.1, 0.9)
        truth.append(coded_name(dims, cuboid, row))
    return additive_case(dims, codes, forecast, actual, truth)


def _elements(
    rng: np.random.Generator, codes: np.ndarray, forecast: np.ndarray, layer: int, count: int
) -> list[tuple[list[int], np.ndarray]]:
    """``count`` elements at ``layer``: (cuboid, value row), none nested in another."""
    total = forecast.sum()
    chosen: list[tuple[list[int], np.ndarray]] = []
    while len(chosen) < count:
        cuboid = sorted(int(d) for d in rng.choice(len(CARDS), layer, replace=False))
        keys, inverse = np.unique(codes[:, cuboid], axis=0, return_inverse=True)
        shares = np.bincount(inverse.ravel(), forecast, len(keys)) / total
        candidates = keys[shares >= MIN_SHARE]
        row = candidates[rng.integers(len(candidates))]
        if not any(_same_or_nested(cuboid, row, c, r) for c, r in chosen):
            chosen.append((cuboid, row))
    return chosen


def _same_or_nested(a: list[int], row_a: np.ndarray, b: list[int], row_b: np.ndarray) -> bool:
    """Whether one element's conditions include the other's (or they are equal)."""
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    small_row, big_row = (row_a, row_b) if len(a) <= len(b) else (row_b, row_a)
    if not set(small) <= set(big):
        return False
    return all(small_row[i] == big_row[big.index(d)] for i, d in enumerate(small))
