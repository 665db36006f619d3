"""Attribution: which segments explain a finding's change (DESIGN §5).

``localize`` works on a leaf table alone (usable and benchmarked on its own);
``attribute`` builds that table from a finding's actual and expected cubes (the stage's
entry point).
"""

from __future__ import annotations

import pandas as pd

from agent.attribute.baseline import compare_cubes
from agent.attribute.decompose import contributions, join_leaves
from agent.attribute.localize import MAX_DEPTH, MIN_SHARE, Localization, localize
from agent.model import Finding

__all__ = [
    "MAX_DEPTH",
    "MIN_SHARE",
    "Localization",
    "attribute",
    "compare_cubes",
    "contributions",
    "localize",
]


def attribute(
    finding: Finding,
    actual: pd.DataFrame,
    expected: pd.DataFrame,
    dimensions: list[str],
    *,
    additive: bool,
    top: int = 5,
) -> Localization:
    """``localize`` on the leaves of ``finding``'s segment, actual against expected.

    Dimensions fixed by the finding's own segment cannot explain anything and are
    left out.
    """
    dims = [d for d in dimensions if d not in finding.segment]
    if not dims:
        return Localization([], 0.0, 1.0)
    leaves = join_leaves(actual, expected, dims)
    return localize(leaves, dims, additive=additive, top=top)
