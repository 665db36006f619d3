"""Attribution: which segments explain a finding's change (DESIGN §5).

Per dimension, each value's contribution is computed (``decompose``). Dimensions are
ranked in the Adtributor spirit: the best dimension is the one whose single value
concentrates most of the change (largest share, capped at 1 and compared to two
decimals), ties going to the larger Jensen–Shannon surprise between the after and
before distributions. Causes from every dimension are returned when they move the
metric the same way as the total and carry at least ``MIN_SHARE`` of it, ranked by
share with ties going to the better dimension.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

from agent.attribute.baseline import compare_cubes
from agent.attribute.decompose import contributions, join_leaves, split
from agent.model import Cause, Finding

__all__ = ["MIN_SHARE", "attribute", "compare_cubes", "contributions", "localize"]

MIN_SHARE = 0.05
"""Segments explaining less than this share of the change are not causes."""


def attribute(
    finding: Finding,
    actual: pd.DataFrame,
    expected: pd.DataFrame,
    dimensions: list[str],
    *,
    additive: bool,
    top: int = 5,
) -> tuple[list[Cause], float]:
    """Causes of ``finding`` from its actual and expected leaves, and explained share.

    Dimensions fixed by the finding's own segment cannot explain anything and are
    left out. See ``localize`` for the ranking and the explained share.
    """
    dims = [d for d in dimensions if d not in finding.segment]
    if not dims:
        return [], 0.0
    leaves = join_leaves(actual, expected, dims)
    return localize(leaves, dims, additive=additive, top=top)


def localize(
    leaves: pd.DataFrame, dimensions: list[str], *, additive: bool, top: int = 5
) -> tuple[list[Cause], float]:
    """Top causes of the change in a leaf table, and the share the best dimension explains.

    ``leaves`` has the dimension columns and num/den before/after. The explained
    share sums the shares of the returned causes from the best dimension; it is
    clipped to [0, 1] for display (shares above 1 mean other values moved back).
    Returns ``([], 0.0)`` when nothing changed.
    """
    tables = {
        dim: split(leaves, dim, additive=additive)
        for dim in dimensions
        if leaves[dim].nunique(dropna=False) > 1
    }
    tables = {dim: t for dim, t in tables.items() if _changed(t)}
    if not tables:
        return [], 0.0
    ranked = sorted(tables, key=lambda dim: _power(tables[dim], additive), reverse=True)
    candidates = [
        (rank, dim, row)
        for rank, dim in enumerate(ranked)
        for row in tables[dim].itertuples(index=False)
        if row.share >= MIN_SHARE
    ]
    # Uncapped: a segment that moved more than the total (others moved back) ranks first.
    candidates.sort(key=lambda c: (-round(c[2].share, 2), c[0]))
    chosen = candidates[:top]
    explained = sum(row.share for rank, _, row in chosen if rank == 0)
    return [_cause(dim, row) for _, dim, row in chosen], float(np.clip(explained, 0.0, 1.0))


def _changed(table: pd.DataFrame) -> bool:
    """False when the net change is nil relative to the segments' gross movement."""
    contribution = table["contribution"]
    total = abs(contribution.sum())
    return bool(np.isfinite(total)) and total > 1e-9 * contribution.abs().sum()


def _rounded(share: float) -> float:
    return round(min(share, 1.0), 2)


def _power(table: pd.DataFrame, additive: bool) -> tuple[float, float]:
    """(largest single-value share, capped and rounded; JS surprise) of a dimension."""
    surprise = _surprise(table["num_before"], table["num_after"])
    if not additive:
        surprise += _surprise(table["den_before"], table["den_after"])
    return _rounded(table["share"].max()), surprise


def _surprise(before: pd.Series, after: pd.Series) -> float:
    """Squared Jensen–Shannon distance (base 2) between two non-negative distributions."""
    p, q = before.clip(lower=0).to_numpy(float), after.clip(lower=0).to_numpy(float)
    if p.sum() <= 0 or q.sum() <= 0:
        return 0.0
    return float(jensenshannon(p, q, base=2) ** 2)


def _cause(dim: str, row: Any) -> Cause:
    return Cause(
        segment={dim: str(row.value)},
        share=float(row.share),
        value_before=float(row.rate_before),
        value_after=float(row.rate_after),
        size_before=float(row.size_before),
        size_after=float(row.size_after),
        rate_effect=float(row.rate_effect),
        mix_effect=float(row.mix_effect),
        confidence=float(row.confidence),
    )
