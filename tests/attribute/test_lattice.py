"""The lattice's sums per cell agree with a plain group-by, for deep cuboids holding some cells."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from agent.attribute.depth import MARGIN, deepen, needed_z2
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
    (sums,) = lattice.per_cells([values])
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


def test_the_screen_keeps_exactly_the_deep_cells_strong_enough_to_be_causes() -> None:
    # the screen rules most deep cells out by a bound before scoring them: it must keep
    # every cell a full count keeps, and no other
    leaves = _leaves()
    rng = np.random.default_rng(1)
    info = rng.uniform(0.5, 2.0, len(leaves))
    excess = rng.normal(0, 1, len(leaves)) * np.sqrt(info)
    planted = ((leaves["a"] == "a2") & (leaves["c"] == "c3")).to_numpy()
    excess[planted] += 3 * info[planted]
    lattice = deepen(Lattice.build(leaves, DIMS), excess, info, alpha=0.01)
    kept = {
        tuple(sorted(lattice.segment(int(cell)).items()))
        for cell in np.flatnonzero(lattice.count)
        if lattice.layer[cell] > 3
    }
    frame = leaves.assign(excess=excess, info=info)
    expected = set()
    for layer in (4, 5):
        groups = [frame.groupby(list(c)) for c in itertools.combinations(DIMS, layer)]
        cells = sum(g.ngroups for g in groups)
        need = MARGIN * needed_z2(2 * np.log(cells), 0.01)
        for cuboid, g in zip(itertools.combinations(DIMS, layer), groups, strict=True):
            sums = g[["excess", "info"]].sum()
            strong = sums[sums["excess"] ** 2 >= need * sums["info"]]
            expected |= {tuple(zip(cuboid, values, strict=True)) for values in strong.index}
    assert 0 < len(kept) < len(leaves) and kept == expected
