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
from scipy.stats import norm

__all__ = ["LEAF_COLUMNS", "contributions", "join_leaves", "split"]

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
    out = groups.reset_index().rename(columns={dimension: "value"})
    out["size_before"], out["size_after"] = out["den_before"], out["den_after"]
    effects = _additive_effects(out) if additive else _ratio_effects(out, leaves)
    out = out.assign(**effects)
    out["contribution"] = out["rate_effect"] + out["mix_effect"]
    total = out["contribution"].sum()
    out["share"] = out["contribution"] / total if total != 0 else 0.0
    return out[_OUTPUT_COLUMNS]


def _additive_effects(g: pd.DataFrame) -> dict[str, pd.Series]:
    n0, n1 = g["num_before"], g["num_after"]
    return {
        "rate_before": n0,
        "rate_after": n1,
        "rate_effect": n1 - n0,
        "mix_effect": n1 * 0.0,
        "confidence": _confidence(n0, n1, n0.abs() + n1.abs()),
    }


def _ratio_effects(g: pd.DataFrame, leaves: pd.DataFrame) -> dict[str, pd.Series]:
    d0, d1 = g["den_before"], g["den_after"]
    r0, r1 = _rates(g["num_before"], d0, g["num_after"], d1)
    w0, w1 = _weights(d0), _weights(d1)
    big_r0, big_r1 = _overall(w0, r0), _overall(w1, r1)
    if d0.sum() <= 0:
        big_r0 = big_r1
    if d1.sum() <= 0:
        big_r1 = big_r0
    rate_effect = (r1 - r0) * (w0 + w1) / 2
    mix_effect = (w1 - w0) * ((r0 + r1) / 2 - (big_r0 + big_r1) / 2)
    conf_rate = _confidence(r0, r1, _rate_variance(g, leaves))
    conf_mix = _confidence(w0, w1, _share_variance(d0, d1))
    rate_led = rate_effect.abs() >= mix_effect.abs()
    return {
        "rate_before": r0,
        "rate_after": r1,
        "rate_effect": rate_effect,
        "mix_effect": mix_effect,
        "confidence": conf_rate.where(rate_led, conf_mix),
    }


def _rates(
    n0: pd.Series, d0: pd.Series, n1: pd.Series, d1: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Segment rates; a side without denominator borrows the other side's rate."""
    r0 = (n0 / d0.where(d0 > 0)).astype(float)
    r1 = (n1 / d1.where(d1 > 0)).astype(float)
    return r0.fillna(r1).fillna(0.0), r1.fillna(r0).fillna(0.0)


def _weights(den: pd.Series) -> pd.Series:
    total = den.sum()
    return den / total if total > 0 else den * 0.0


def _overall(w: pd.Series, r: pd.Series) -> float:
    """Overall rate as sum of w * r, so the decomposition adds up exactly."""
    return float((w * r).sum())


def _rate_variance(g: pd.DataFrame, leaves: pd.DataFrame) -> pd.Series:
    """Variance of r1 - r0 per segment: binomial for rates in [0, 1], else dispersion."""
    d0, d1 = g["den_before"], g["den_after"]
    inv = 1 / d0.where(d0 > 0) + 1 / d1.where(d1 > 0)
    unit = _unit_variance(leaves)
    if unit is None:
        pooled = (g["num_before"] + g["num_after"]) / (d0 + d1).where(d0 + d1 > 0)
        return (pooled * (1 - pooled) * inv).fillna(np.inf)
    return (unit * inv).fillna(np.inf)


def _unit_variance(leaves: pd.DataFrame) -> float | None:
    """None when every leaf rate lies in [0, 1] (binomial case), else a per-unit variance.

    The estimate is Pearson's between-leaf dispersion, sum d (r - R)^2 / (L - 1),
    pooled over both sides. Real differences between leaves inflate it, which makes
    the confidence conservative. With too few leaves it falls back to |R| (Poisson).
    """
    squares, df, means = 0.0, 0, []
    in_unit_range = True
    for side in ("before", "after"):
        den = leaves[f"den_{side}"]
        keep = den > 0
        num, den = leaves[f"num_{side}"][keep], den[keep]
        rate = num / den
        in_unit_range &= bool(((rate >= 0) & (rate <= 1)).all())
        mean = num.sum() / den.sum() if len(den) else 0.0
        squares += float((den * (rate - mean) ** 2).sum())
        df += max(len(den) - 1, 0)
        means.append(abs(mean))
    if in_unit_range:
        return None
    return squares / df if df > 0 else max(means)


def _share_variance(d0: pd.Series, d1: pd.Series) -> pd.Series:
    """Two-proportion variance of a segment's share of the population."""
    big_d0, big_d1 = d0.sum(), d1.sum()
    if big_d0 <= 0 or big_d1 <= 0:
        return d0 * 0.0 + np.inf
    pooled = (d0 + d1) / (big_d0 + big_d1)
    return pooled * (1 - pooled) * (1 / big_d0 + 1 / big_d1)


def _confidence(x0: pd.Series, x1: pd.Series, variance: pd.Series) -> pd.Series:
    """1 - two-sided p-value of a z-test of x1 vs x0, clamped to [0, 1]."""
    diff = (x1 - x0).abs().to_numpy(dtype=float)
    var = variance.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, diff / np.sqrt(var), np.where(diff > 0, np.inf, 0.0))
    conf = 1 - 2 * norm.sf(np.nan_to_num(z, nan=0.0))
    return pd.Series(np.clip(conf, 0.0, 1.0), index=x0.index)
