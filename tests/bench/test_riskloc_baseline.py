"""RiskLoc (the bench's comparator) on tiny cases whose root cause is plain to see."""

from __future__ import annotations

import itertools

import pandas as pd

from bench.riskloc_baseline import riskloc

NOISE = [0, 1, -1, 2, -2]
"""Small moves of the unaffected leaves, so that their deviations differ a little."""


def leaves(values: dict[str, list[str]], moved: dict[str, str], factor: float) -> pd.DataFrame:
    """Every combination of ``values``; forecast 100, actual 100 + noise, ``moved`` × factor."""
    rows = []
    for i, combo in enumerate(itertools.product(*values.values())):
        row = dict(zip(values, combo, strict=True))
        hit = all(row[d] == v for d, v in moved.items())
        actual = 100.0 * factor if hit else 100.0 + NOISE[i % len(NOISE)]
        rows.append({**row, "num_before": 100.0, "num_after": actual})
    return pd.DataFrame(rows).assign(den_before=1.0, den_after=1.0)


def test_one_value_tripled_is_the_cause() -> None:
    table = leaves({"a": ["x", "y", "z"], "b": ["p", "q", "r"]}, {"a": "x"}, 3.0)
    assert riskloc(table, ["a", "b"], additive=True) == [{"a": "x"}]


def test_a_combination_is_named_not_its_dimensions() -> None:
    values = {"a": ["x", "y", "z"], "b": ["p", "q", "r"], "c": ["u", "v"]}
    table = leaves(values, {"a": "x", "b": "p"}, 3.0)
    assert riskloc(table, ["a", "b", "c"], additive=True) == [{"a": "x", "b": "p"}]


def test_a_rate_that_halves_in_one_value() -> None:
    counts = leaves({"a": ["x", "y", "z"], "b": ["p", "q", "r"]}, {"a": "y"}, 0.5)
    table = counts.assign(
        num_before=90.0,
        num_after=counts["num_after"] * 0.9,
        den_before=100.0,
        den_after=100.0,
    )
    assert riskloc(table, ["a", "b"], additive=False) == [{"a": "y"}]
