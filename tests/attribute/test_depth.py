"""Causes in several dimensions at once and at any depth, planted in synthetic cubes."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from agent.attribute import localize

DIMS = ["channel", "device", "region", "tier"]
VALUES = {
    "channel": ["app", "web", "store", "call"],
    "device": ["android", "ios", "desktop"],
    "region": ["Seoul", "Busan", "Incheon", "Daegu", "Gwangju"],
    "tier": ["basic", "silver", "gold", "vip"],
}


def _cube(seed: int, volume: float = 1000.0, values: dict[str, list[str]] = VALUES) -> pd.DataFrame:
    """Every combination of ``values`` (240 leaves of ``VALUES``): forecast ``volume`` with
    independent 2 % errors, actual ``volume``."""
    rng = np.random.default_rng(seed)
    leaves = pd.DataFrame(itertools.product(*values.values()), columns=list(values))
    forecast = volume * (1 + rng.normal(0, 0.02, len(leaves)))
    return leaves.assign(num_before=forecast, den_before=1.0, num_after=volume, den_after=1.0)


def _scale(leaves: pd.DataFrame, segment: dict[str, str], factor: float) -> pd.DataFrame:
    inside = np.logical_and.reduce([leaves[d] == v for d, v in segment.items()])
    return leaves.assign(
        num_after=np.where(inside, leaves["num_after"] * factor, leaves["num_after"])
    )


def test_two_causes_in_different_dimensions_are_named_whole_not_as_intersections():
    # the app channel loses 40 % and Busan 30 %; app & Busan leaves lose both
    leaves = _scale(_scale(_cube(1), {"channel": "app"}, 0.6), {"region": "Busan"}, 0.7)
    found = localize(leaves, DIMS, additive=True)
    assert [c.segment for c in found.causes] == [{"channel": "app"}, {"region": "Busan"}]


def test_two_causes_in_different_dimensions_of_a_rate_are_named_whole():
    leaves = _cube(2).assign(den_before=1000.0, den_after=1000.0)
    leaves = leaves.assign(num_before=leaves["num_before"] * 0.5, num_after=500.0)
    leaves = _scale(_scale(leaves, {"device": "ios"}, 0.8), {"tier": "gold"}, 0.85)
    found = localize(leaves, DIMS, additive=False)
    assert [c.segment for c in found.causes] == [{"device": "ios"}, {"tier": "gold"}]


def test_a_cause_in_four_dimensions_is_named_exactly_not_an_ancestor():
    incident = {"channel": "web", "device": "ios", "region": "Daegu", "tier": "vip"}
    leaves = _scale(_cube(3), incident, 0.1)
    found = localize(leaves, DIMS, additive=True)
    assert [c.segment for c in found.causes] == [incident]


def test_a_cause_in_four_of_five_dimensions_among_many_leaves_is_named_exactly():
    # 240 x 5 = 1,200 leaves, where the noise of the forecast is measured in detail
    leaves = _cube(4, values={**VALUES, "plan": ["p1", "p2", "p3", "p4", "p5"]})
    incident = {"channel": "store", "region": "Seoul", "tier": "basic", "plan": "p3"}
    found = localize(_scale(leaves, incident, 0.3), [*DIMS, "plan"], additive=True)
    assert [c.segment for c in found.causes] == [incident]


def test_a_deep_cause_and_a_general_one_are_both_named():
    deep = {"channel": "call", "device": "desktop", "region": "Incheon", "tier": "silver"}
    leaves = _scale(_scale(_cube(5, volume=20_000.0), deep, 0.05), {"device": "android"}, 0.9)
    found = localize(leaves, DIMS, additive=True)
    assert [c.segment for c in found.causes] == [{"device": "android"}, deep]


def test_searched_three_deep_a_four_dimension_cause_is_named_by_an_ancestor():
    incident = {"channel": "web", "device": "ios", "region": "Daegu", "tier": "vip"}
    leaves = _scale(_cube(3), incident, 0.1)
    shallow = localize(leaves, DIMS, additive=True, depth=3)
    deep = localize(leaves, DIMS, additive=True)
    first = shallow.causes[0].segment
    assert len(first) == 3 and first.items() <= incident.items()
    assert deep.segments_checked == shallow.segments_checked + 240  # every leaf scored too
