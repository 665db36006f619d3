"""RiskLoc, measured beside cx-agent's localizer in ``bench/rca.py``.

Our own vectorised implementation of RiskLoc (M. Kalander, "RiskLoc: Localization of
Multi-dimensional Root Causes by Weighted Risk", arXiv 2205.10004, 2022), written from
the paper's description and the behaviour of its public reference code
(github.com/shaido987/riskloc, ``algorithms/riskloc.py``), with that code's published
defaults: risk threshold 0.5, proportional explanatory-power threshold 0.02, 5 extreme
deviation values ignored when placing the cut-off, element pruning on.

How it works, per leaf with actual ``r`` and forecast ``f``:

1. Explanatory power ``ep``: the leaf's share of the total change, ``(r - f) / (A - F)``
   (for a derived measure ``a / b``: the first-order effect of the leaf on the total
   ratio, normalised to sum to 1). Deviation ``2 (f - r) / (f + r)``.
2. Two-way partition: the cut-off is minus the smaller in magnitude of the 6th smallest
   and 6th largest distinct deviations; leaves beyond it on its side are abnormal.
   Weights grow linearly with the distance from the cut-off (abnormal: ``|dev|``), at
   most 1; leaves with ``r = f = 0`` weigh nothing.
3. Risk of an element (a combination of dimension values) = weighted share of abnormal
   leaves ``W_ab / (W_ab + W_normal + 1)`` minus a ripple-effect term: the mean relative
   deviation of its leaves from their forecast scaled by the element's own change,
   over their mean ``|dev|``.
4. Search layer by layer (1, 2, … dimensions): within a layer the element with the most
   ``ep`` whose risk is at least 0.5 wins; the first layer with a winner ends the search.
   Its leaves are removed and the search repeats while the abnormal leaves left still
   carry at least 2% of the abnormal ``ep``. Layer-1 elements without abnormal leaves
   or with too little positive ``ep`` are pruned from later cuboids.

Input is ``bench/rca.py``'s leaf table (dimension columns, ``num``/``den`` before and
after); the result is a list of elements ``{dimension: value}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

__all__ = ["RISK_THRESHOLD", "PEP_THRESHOLD", "N_REMOVE", "riskloc"]

RISK_THRESHOLD = 0.5
PEP_THRESHOLD = 0.02
N_REMOVE = 5


@dataclass
class _Leaves:
    """Per-leaf arrays shared by every step of one run."""

    codes: np.ndarray  # (leaves, dimensions) integer code of each value
    values: list[np.ndarray]  # per dimension, the value of each code
    real: np.ndarray
    predict: np.ndarray
    deviation: np.ndarray
    ep: np.ndarray
    abnormal: np.ndarray
    weight: np.ndarray


def riskloc(
    leaves: pd.DataFrame,
    dimensions: list[str],
    *,
    additive: bool,
    risk_threshold: float = RISK_THRESHOLD,
    pep_threshold: float = PEP_THRESHOLD,
) -> list[dict[str, str]]:
    """RiskLoc's root-cause elements for one case, in the order found."""
    data = _prepare(leaves, dimensions, additive)
    anomaly_ep = data.ep[data.abnormal].sum()
    if anomaly_ep < 0:
        data.ep = -data.ep
        anomaly_ep = -anomaly_ep
    floor = anomaly_ep * pep_threshold
    alive = np.ones(len(data.real), dtype=bool)
    pruned = [np.zeros(len(v), dtype=bool) for v in data.values]
    found: list[dict[str, str]] = []
    while data.ep[alive & data.abnormal].sum() >= floor:
        element = _search(data, alive, pruned, floor, risk_threshold)
        if element is None:
            break
        cuboid, codes = element
        found.append(
            {dimensions[d]: str(data.values[d][c]) for d, c in zip(cuboid, codes, strict=True)}
        )
        alive &= ~np.all(data.codes[:, cuboid] == codes, axis=1)
    return found


def _prepare(leaves: pd.DataFrame, dimensions: list[str], additive: bool) -> _Leaves:
    factorized = [pd.factorize(leaves[d]) for d in dimensions]
    codes = np.column_stack([f[0] for f in factorized])
    real_a, real_b = leaves["num_after"].to_numpy(float), leaves["den_after"].to_numpy(float)
    pred_a, pred_b = leaves["num_before"].to_numpy(float), leaves["den_before"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if additive:
            real, predict = real_a, pred_a
            ep = (real - predict) / (real.sum() - predict.sum())
        else:
            real, predict = _ratio(real_a, real_b), _ratio(pred_a, pred_b)
            fa, fb = pred_a.sum(), pred_b.sum()
            ep = ((real_a - pred_a) * fb - (real_b - pred_b) * fa) / (fb * (fb + real_b - pred_b))
            ep = ep / ep.sum()
        deviation = np.nan_to_num(2 * (predict - real) / (predict + real))
    cutoff = _cutoff(deviation)
    right = cutoff > 0 or (cutoff == 0 and not np.signbit(cutoff))
    abnormal = deviation > cutoff if right else deviation < cutoff
    weight = np.where(abnormal, np.abs(deviation), np.abs(cutoff - deviation))
    weight[~abnormal & (real == 0) & (predict == 0)] = 0.0
    return _Leaves(
        codes,
        [np.asarray(f[1]) for f in factorized],
        real,
        predict,
        deviation,
        np.nan_to_num(ep),
        abnormal,
        np.minimum(weight, 1.0),
    )


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def _cutoff(deviation: np.ndarray) -> float:
    """Minus the less extreme of the (N_REMOVE+1)-th lowest and highest distinct deviations."""
    distinct = np.unique(deviation)
    low = distinct[min(N_REMOVE, len(distinct) - 1)]
    high = distinct[max(len(distinct) - 1 - N_REMOVE, 0)]
    return float(-(low if abs(low) <= abs(high) else high))


def _search(
    data: _Leaves, alive: np.ndarray, pruned: list[np.ndarray], floor: float, threshold: float
) -> tuple[list[int], np.ndarray] | None:
    """The best element of the lowest layer holding one, as (cuboid, value codes)."""
    dims = data.codes.shape[1]
    for layer in range(1, dims + 1):
        best_ep, best = floor, None
        for cuboid in map(list, combinations(range(dims), layer)):
            keep = alive & ~np.any([pruned[d][data.codes[:, d]] for d in cuboid], axis=0)
            if not keep.any():
                continue
            scored = _score_cuboid(data, keep, cuboid)
            if layer == 1:
                prune = (scored["ep_z"] < floor) | (scored["abnormal"] == 0)
                pruned[cuboid[0]][scored["codes"][prune, 0]] = True
            hit = _first_risky(scored, best_ep, threshold)
            if hit is not None:
                best_ep, best = scored["ep"][hit], (cuboid, scored["codes"][hit])
        if best is not None:
            return best
    return None


def _score_cuboid(data: _Leaves, keep: np.ndarray, cuboid: list[int]) -> dict[str, np.ndarray]:
    """Per element of the cuboid over the kept leaves: ep, ep_z, abnormal count, risk."""
    index = np.flatnonzero(keep)
    codes = data.codes[index][:, cuboid]
    group = pd.factorize(codes[:, 0])[0]
    for j in range(1, len(cuboid)):
        group = pd.factorize(group * (codes[:, j].max() + 1) + codes[:, j])[0]
    n = int(group.max()) + 1
    # factorize numbers groups in order of first appearance: a group starts where the
    # code exceeds every code before it
    first = np.flatnonzero(group > np.maximum.accumulate(np.r_[-1, group[:-1]]))

    def total(x: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=x, minlength=n)

    ep, abnormal, weight = data.ep[index], data.abnormal[index], data.weight[index]
    w_abnormal = total(weight * abnormal)
    high = w_abnormal / (w_abnormal + total(weight * ~abnormal) + 1)
    return {
        "codes": codes[first],
        "ep": total(ep),
        "ep_z": total(np.maximum(ep, 0)),
        "abnormal": total(abnormal.astype(float)),
        "risk": high - _low_risk(data, index, group, total),
    }


def _low_risk(
    data: _Leaves, index: np.ndarray, group: np.ndarray, total: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Ripple-effect term: leaves' deviation from the element's own scaled forecast."""
    real, predict = data.real[index], data.predict[index]
    valid = ((real != 0) & (predict != 0)).astype(float)
    count = total(valid)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = predict * total(real * valid)[group] / total(predict * valid)[group]
        d = np.nan_to_num(np.abs(2 * (expected - real) / (expected + real))) * valid
        w1 = total(d) / count
        w2 = total(np.abs(data.deviation[index]) * valid) / count
        low = np.where((count > 0) & (w2 != 0), w1 / w2, 0.0)
    return np.nan_to_num(low)


def _first_risky(scored: dict[str, np.ndarray], best_ep: float, threshold: float) -> int | None:
    """Highest-ep element above ``best_ep`` with an abnormal leaf and risk ≥ threshold."""
    candidates = np.flatnonzero((scored["abnormal"] > 0) & (scored["ep"] > best_ep))
    ordered = candidates[np.argsort(-scored["ep"][candidates], kind="stable")]
    risky = ordered[scored["risk"][ordered] >= threshold]
    return int(risky[0]) if len(risky) else None
