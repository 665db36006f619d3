"""Per-dimension contributions to a change, with the rate/mix split (DESIGN §5).

A *leaf table* has the dimension columns and ``num_before``, ``den_before``,
``num_after``, ``den_after``. For a ratio metric with overall ``R = N / D``, weights
``w_i = den_i / D`` and rates ``r_i = num_i / den_i``, the symmetric (Shapley) split

    R1 - R0 = sum_i rate_i + sum_i mix_i
    rate_i = (r1_i - r0_i) (w0_i + w1_i) / 2
    mix_i  = (w1_i - w0_i) ((r0_i + r1_i) / 2 - (R0 + R1) / 2)

is exact. Centring the mix term on the mean overall rate means a segment that grows
only moves the metric if its rate differs from the rest. A segment with no
denominator on one side takes its rate from the other side, so a segment that
appears or disappears is pure mix. For additive metrics the contribution of a
segment is simply ``num_after - num_before``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "LEAF_COLUMNS",
    "array_split",
    "effect_columns",
    "contributions",
    "join_leaves",
    "segment_split",
    "split",
    "table",
    "unit_variance",
]

LEAF_COLUMNS = ["num_before", "den_before", "num_after", "den_after"]
_OUTPUT_COLUMNS = [
    "value",
    *LEAF_COLUMNS,
    "rate_before",
    "rate_after",
    "size_before",
    "size_after",
    "rate_effect",
    "mix_effect",
    "contribution",
    "share",
    "confidence",
]


def join_leaves(
    actual: pd.DataFrame, expected: pd.DataFrame, dimensions: list[str]
) -> pd.DataFrame:
    """One leaf table from the actual and expected leaves; a missing leaf counts as 0."""
    if not dimensions:
        raise ValueError("join_leaves needs at least one dimension to join on")
    sides = [
        frame.groupby(dimensions, dropna=False)[["num", "den"]].sum().add_suffix(suffix)
        for frame, suffix in ((expected, "_before"), (actual, "_after"))
    ]
    joined = sides[0].join(sides[1], how="outer").fillna(0.0).astype(float)
    return joined[LEAF_COLUMNS].reset_index()


def contributions(
    actual: pd.DataFrame, expected: pd.DataFrame, dimension: str, *, additive: bool
) -> pd.DataFrame:
    """Contribution of each value of ``dimension`` to the change expected → actual.

    ``actual`` and ``expected`` are leaf tables (dimension columns, ``num``, ``den``).
    """
    dims = [c for c in actual.columns if c not in ("num", "den")]
    return split(join_leaves(actual, expected, dims), dimension, additive=additive)


def split(leaves: pd.DataFrame, dimension: str, *, additive: bool) -> pd.DataFrame:
    """One row per value of ``dimension``: sizes, values, effects, share, confidence.

    Columns: value, num/den before & after, rate_before/rate_after (the segment's
    rate, or its value for additive metrics), size_before/size_after (den),
    rate_effect, mix_effect, contribution, share, confidence. ``share`` divides by
    the sum of contributions (the total change); it is 0 when nothing changed.
    """
    groups = leaves.groupby(dimension, dropna=False, sort=True)[LEAF_COLUMNS].sum()
    unit = None if additive else unit_variance(leaves)
    return table(groups.index.to_numpy(), groups.to_numpy(float).T, additive=additive, unit=unit)


def segment_split(
    leaves: pd.DataFrame, mask: np.ndarray, *, additive: bool, unit: float | None = None
) -> pd.Series:
    """The ``split`` row of the leaves in ``mask`` taken together, against all the others.

    ``unit`` is ``unit_variance(leaves)`` for ratio metrics (pass it when calling often).
    """
    row = array_split(leaves[LEAF_COLUMNS].to_numpy(float), mask, additive=additive, unit=unit)
    return pd.Series({"value": True} | row)[_OUTPUT_COLUMNS]


def array_split(
    values: np.ndarray, mask: np.ndarray, *, additive: bool, unit: float | None
) -> dict[str, float]:
    """``segment_split`` on the leaf columns as one array (leaves × LEAF_COLUMNS).

    A plain dict: ``localize`` calls it per cause, where a pandas row costs more than the sums.
    """
    inside = np.asarray(mask, dtype=float) @ values
    sums = np.column_stack([inside, values.sum(axis=0) - inside])
    return {name: float(column[0]) for name, column in effect_columns(sums, additive, unit).items()}


def table(
    labels: np.ndarray, sums: np.ndarray, *, additive: bool, unit: float | None
) -> pd.DataFrame:
    """The split table from per-group sums (rows of ``sums``: LEAF_COLUMNS order)."""
    return pd.DataFrame({"value": labels} | effect_columns(sums, additive, unit))[_OUTPUT_COLUMNS]


def effect_columns(sums: np.ndarray, additive: bool, unit: float | None) -> dict[str, np.ndarray]:
    """The columns of ``table`` but ``value``, as arrays."""
    n0, d0, n1, d1 = sums
    effects = _additive_effects(n0, n1) if additive else _ratio_effects(n0, d0, n1, d1, unit)
    contribution = effects["rate_effect"] + effects["mix_effect"]
    total = contribution.sum()
    share = contribution / total if total != 0 else contribution * 0.0
    columns = dict(zip(LEAF_COLUMNS, sums, strict=True)) | {"size_before": d0, "size_after": d1}
    return columns | effects | {"contribution": contribution, "share": share}


def _additive_effects(n0: np.ndarray, n1: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "rate_before": n0,
        "rate_after": n1,
        "rate_effect": n1 - n0,
        "mix_effect": n1 * 0.0,
        "confidence": _confidence(n0, n1, np.abs(n0) + np.abs(n1)),
    }


def _ratio_effects(
    n0: np.ndarray, d0: np.ndarray, n1: np.ndarray, d1: np.ndarray, unit: float | None
) -> dict[str, np.ndarray]:
    r0, r1 = _rates(n0, d0, n1, d1)
    w0, w1 = _weights(d0), _weights(d1)
    big_r0, big_r1 = float((w0 * r0).sum()), float((w1 * r1).sum())
    if d0.sum() <= 0:
        big_r0 = big_r1
    if d1.sum() <= 0:
        big_r1 = big_r0
    rate_effect = (r1 - r0) * (w0 + w1) / 2
    mix_effect = (w1 - w0) * ((r0 + r1) / 2 - (big_r0 + big_r1) / 2)
    conf_rate = _confidence(r0, r1, _rate_variance(n0, d0, n1, d1, unit))
    conf_mix = _confidence(w0, w1, _share_variance(d0, d1))
    return {
        "rate_before": r0,
        "rate_after": r1,
        "rate_effect": rate_effect,
        "mix_effect": mix_effect,
        "confidence": np.where(np.abs(rate_effect) >= np.abs(mix_effect), conf_rate, conf_mix),
    }


def _rates(
    n0: np.ndarray, d0: np.ndarray, n1: np.ndarray, d1: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Segment rates; a side without denominator borrows the other side's rate."""
    r0, r1 = _ratio(n0, d0), _ratio(n1, d1)
    return _fill(_fill(r0, r1), 0.0), _fill(_fill(r1, r0), 0.0)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _fill(x: np.ndarray, other: np.ndarray | float) -> np.ndarray:
    return np.where(np.isnan(x), other, x)


def _weights(den: np.ndarray) -> np.ndarray:
    total = den.sum()
    return den / total if total > 0 else den * 0.0


def _rate_variance(
    n0: np.ndarray, d0: np.ndarray, n1: np.ndarray, d1: np.ndarray, unit: float | None
) -> np.ndarray:
    """Variance of r1 - r0 per segment: binomial for rates in [0, 1], else dispersion."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(d0 > 0, 1 / d0, np.nan) + np.where(d1 > 0, 1 / d1, np.nan)
    if unit is None:
        pooled = _ratio(n0 + n1, d0 + d1)
        return _fill(pooled * (1 - pooled) * inv, np.inf)
    return _fill(unit * inv, np.inf)


def unit_variance(leaves: pd.DataFrame) -> float | None:
    """None when every leaf rate lies in [0, 1] (binomial case), else a per-unit variance.

    The estimate is Pearson's between-leaf dispersion, sum d (r - R)^2 / (L - 1),
    pooled over both sides. Real differences between leaves inflate it, which makes
    the confidence conservative. With too few leaves it falls back to |R| (Poisson).
    """
    squares, df, means = 0.0, 0, []
    in_unit_range = True
    for side in ("before", "after"):
        den = leaves[f"den_{side}"].to_numpy(float)
        keep = den > 0
        num, den = leaves[f"num_{side}"].to_numpy(float)[keep], den[keep]
        rate = num / den
        in_unit_range &= bool(((rate >= 0) & (rate <= 1)).all())
        mean = num.sum() / den.sum() if len(den) else 0.0
        squares += float((den * (rate - mean) ** 2).sum())
        df += max(len(den) - 1, 0)
        means.append(abs(mean))
    if in_unit_range:
        return None
    return squares / df if df > 0 else max(means)


def _share_variance(d0: np.ndarray, d1: np.ndarray) -> np.ndarray:
    """Two-proportion variance of a segment's share of the population."""
    big_d0, big_d1 = d0.sum(), d1.sum()
    if big_d0 <= 0 or big_d1 <= 0:
        return d0 * 0.0 + np.inf
    pooled = (d0 + d1) / (big_d0 + big_d1)
    variance: np.ndarray = pooled * (1 - pooled) * (1 / big_d0 + 1 / big_d1)
    return variance


def _confidence(x0: np.ndarray, x1: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """1 - two-sided p-value of a z-test of x1 vs x0, clamped to [0, 1]."""
    # imported on use: see agent/__init__.py
    from scipy.special import ndtr

    diff = np.abs(x1 - x0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(variance > 0, diff / np.sqrt(variance), np.where(diff > 0, np.inf, 0.0))
    conf = 1 - 2 * ndtr(-np.nan_to_num(z, nan=0.0))  # ndtr: norm.cdf without its overhead
    clipped: np.ndarray = np.clip(conf, 0.0, 1.0)
    return clipped
