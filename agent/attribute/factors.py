"""Factor trees: which factor of a product metric moved (orders = visitors × conversion × …).

When a metric is the product of others, its change in log terms is the sum of theirs:
``ln(after / before) = Σ ln(factor_after / factor_before)``. Each factor's part of that
sum is its share of the change, so "conversion fell" and "fewer visitors came" are
told apart without any segment search. The factors are measured over the same windows
as the finding (``related_change``), inside the finding's own segment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from agent.attribute.context import related_change
from agent.model import FactorMove, Finding, Unit

__all__ = ["Factor", "factor_moves", "log_shares"]

EPSILON = 1e-12
WHOLE = "_cx_whole"


@dataclass(frozen=True)
class Factor:
    """One factor metric: its cube and how to read it."""

    metric: str
    title: str
    unit: Unit
    cube: pd.DataFrame
    dimensions: list[str]
    additive: bool


def log_shares(changes: list[tuple[float, float]]) -> list[float]:
    """Each (before, after) pair's share of the summed log change.

    The shares add up to 1; when the log changes cancel out (the product did not move)
    each is divided by the sum of their sizes instead, so a factor that moved still
    shows. A factor with a non-positive value has no log change and a share of 0.
    """
    logs = [
        math.log(after / before) if before > 0 and after > 0 else 0.0 for before, after in changes
    ]
    total = sum(logs)
    if abs(total) < EPSILON:
        total = sum(abs(x) for x in logs)
    return [x / total if abs(total) >= EPSILON else 0.0 for x in logs]


def factor_moves(finding: Finding, factors: list[Factor], *, grain: str) -> list[FactorMove]:
    """How each factor moved across ``finding``'s change, the largest log change first.

    Factors that cannot be measured in the finding's segment (not sliced by its
    dimensions, or without data there) are left out.
    """
    measured = []
    for factor in factors:
        cube, dims = factor.cube, factor.dimensions
        if not dims:  # leaf tables need a key: one constant dimension
            cube, dims = cube.assign(**{WHOLE: WHOLE}), [WHOLE]
        change = related_change(
            cube, finding, finding.segment, dimensions=dims, additive=factor.additive, grain=grain
        )
        if change is not None:
            measured.append((factor, change))
    shares = log_shares([change for _, change in measured])
    moves = [
        FactorMove(f.metric, f.title, before, after, share, f.unit)
        for (f, (before, after)), share in zip(measured, shares, strict=True)
    ]
    return sorted(moves, key=lambda m: -abs(m.share))
