"""The bench's case generators plant what they say: layers, counts, and how leaves move."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.rca_riskloc_style import SETS, riskloc_case
from bench.rca_squeeze import squeeze_case


def _inside(leaves: pd.DataFrame, element: str) -> np.ndarray:
    pairs = [kv.split("=") for kv in element.split("&")]
    return np.logical_and.reduce([leaves[d].to_numpy() == v for d, v in pairs])


def test_a_squeeze_case_moves_each_element_by_one_proportion() -> None:
    rng = np.random.default_rng(0)
    for layer, count in [(1, 3), (2, 2), (3, 1)]:
        case = squeeze_case(rng, 0.0, layer, count)  # no noise: only the causes move
        assert len(case.truth) == count
        assert all(len(t.split("&")) == layer for t in case.truth)
        leaves = case.leaves
        moved = ~np.isclose(leaves["num_after"], leaves["num_before"])
        masks = [_inside(leaves, t) for t in case.truth]
        assert (moved <= np.logical_or.reduce(masks)).all()
        for mask in masks:
            alone = mask & ~np.logical_or.reduce([m for m in masks if m is not mask])
            live = alone & (leaves["num_before"] > 0)
            ratio = leaves["num_after"][live] / leaves["num_before"][live]
            assert np.ptp(ratio) < 1e-9 and abs(ratio.iloc[0] - 1) >= 0.1


def test_riskloc_style_l_cases_hold_disjoint_single_leaf_causes() -> None:
    rng = np.random.default_rng(1)
    for _ in range(3):
        case = riskloc_case(rng, SETS["L"])
        assert 1 <= len(case.truth) <= 5
        assert all(len(t.split("&")) == 4 for t in case.truth)
        for element in case.truth:
            leaf = case.leaves[_inside(case.leaves, element)]
            assert len(leaf) == 1
            assert leaf["num_after"].iloc[0] != leaf["num_before"].iloc[0]


def test_riskloc_style_deep_and_many_sets_plant_what_they_name() -> None:
    rng = np.random.default_rng(2)
    deep = riskloc_case(rng, SETS["S-deep"])
    assert all(4 <= len(t.split("&")) <= 6 for t in deep.truth)
    many = riskloc_case(rng, SETS["S-many"])
    assert 5 <= len(many.truth) <= 7
    for one in many.truth:  # causes sharing a dimension differ in it
        for other in many.truth:
            first, second = (
                dict(kv.split("=") for kv in one.split("&")),
                dict(kv.split("=") for kv in other.split("&")),
            )
            shared = first.keys() & second.keys()
            assert one == other or any(first[d] != second[d] for d in shared) or not shared
