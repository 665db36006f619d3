"""The lattice's sums per cell agree with a plain group-by, for deep cuboids holding some cells."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from agent.attribute.depth import deepen
from agent.attribute.lattice import Lattice

DIMS = ["a", "b", "c", "d", "e"]


def _leaves() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    combos = list(
        itertools.product(
            ["a1", "a2", "a3"], ["b1", "b2"], ["c1", "c2", "c3"], ["d1", "d2"], ["e1", "e2"]
        )
    )
    keep = rng.uniform(size=len(combos)) < 0.7  # a sparse cube: not every combination
    return pd.DataFrame([c for c, k in zip(combos, keep, strict=True) if k], columns=DIMS)


def test_every_cell_sums_what_its_leaves_hold() -> None:
    leaves = _leaves()
    values = np.arange(len(leaves), dtype=float) + 1
    shallow = Lattice.build(leaves, DIMS)
    excess = np.where(leaves["b"] == "b2", 100.0, 0.1)  # only b=b2 cells move
    lattice = deepen(shallow, excess, np.ones(len(leaves)), alpha=0.01)
    sums = lattice.per_cell(values)
    deep = [j for j, c in enumerate(lattice.cuboids) if len(c) > 3]
    assert deep and all(lattice.rows[j] is not None for j in deep)
    for cell in np.flatnonzero(lattice.count):
        segment = lattice.segment(int(cell))
        inside = np.logical_and.reduce([leaves[d] == v for d, v in segment.items()])
        assert sums[cell] == values[inside].sum()
        if len(segment) > 3:  # the screen keeps only cells that moved
            assert (leaves.loc[inside, "b"] == "b2").any()


def test_sums_over_some_members_count_only_them() -> None:
    leaves = _leaves()
    lattice = deepen(
        Lattice.build(leaves, DIMS), np.ones(len(leaves)) * 50, np.ones(len(leaves)), 0.01
    )
    members = (leaves["a"] == "a1").to_numpy()
    counts, totals = lattice.per_cells([None, np.ones(len(leaves))], members)
    assert (counts == totals).all()
    assert counts.sum() == members.sum() * len(lattice.cuboids)
