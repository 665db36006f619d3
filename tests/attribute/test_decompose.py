"""One dimension at a time: contributions, the rate/mix split and its confidence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agent.attribute import contributions
from agent.attribute.decompose import segment_split, split


def _leaves(rows: list[tuple]) -> pd.DataFrame:
    """(channel, device, num_before, den_before, num_after, den_after) rows."""
    columns = ["channel", "device", "num_before", "den_before", "num_after", "den_after"]
    return pd.DataFrame(rows, columns=columns).astype({c: float for c in columns[2:]})


def test_appearing_segment_is_pure_mix():
    leaves = _leaves([("web", "x", 450, 900, 450, 900), ("kiosk", "x", 0, 0, 20, 100)])
    table = split(leaves, "channel", additive=False).set_index("value")
    kiosk = table.loc["kiosk"]
    assert (kiosk.rate_before, kiosk.rate_after, kiosk.rate_effect) == (0.2, 0.2, 0.0)
    assert kiosk.mix_effect == pytest.approx(0.1 * (0.2 - 0.485))  # R 0.5 -> 0.47
    assert table["contribution"].sum() == pytest.approx(-0.03)


@pytest.mark.parametrize("seed", range(8))
def test_rate_and_mix_add_up_to_the_change_of_the_overall_rate(seed):
    rng = np.random.default_rng(seed)
    n = 30
    den = rng.integers(0, 50, size=(n, 2)).astype(float)
    num = np.floor(den * rng.uniform(0, 1, size=(n, 2)))
    leaves = pd.DataFrame(
        {
            "a": rng.choice(list("pqrs"), n),
            "b": rng.choice(list("xyz"), n),
            "num_before": num[:, 0],
            "den_before": den[:, 0],
            "num_after": num[:, 1],
            "den_after": den[:, 1],
        }
    )
    change = num[:, 1].sum() / den[:, 1].sum() - num[:, 0].sum() / den[:, 0].sum()
    for dim in ("a", "b"):
        table = split(leaves, dim, additive=False)
        assert (table["rate_effect"] + table["mix_effect"]).sum() == pytest.approx(change)


def test_big_segment_moving_five_points_is_more_certain_than_a_small_one():
    actual = pd.DataFrame(
        {"channel": ["small", "big"], "num": [18.0, 18_000.0], "den": [40.0, 40_000.0]}
    )
    expected = actual.assign(num=[20.0, 20_000.0])  # 0.50 -> 0.45 in both
    table = contributions(actual, expected, "channel", additive=False).set_index("value")
    assert table.loc["small", "confidence"] < 0.5
    assert table.loc["big", "confidence"] > 0.999


def test_rates_outside_unit_interval_use_a_dispersion_estimate():
    # average order value: same 10-unit move, small and big segment
    actual = pd.DataFrame(
        {
            "channel": ["small", "big", "web"],
            "num": [3600.0, 90_000.0, 5000.0],
            "den": [40.0, 1000.0, 50.0],
        }
    )
    expected = actual.assign(num=[4000.0, 100_000.0, 5000.0])  # 100 -> 90
    table = contributions(actual, expected, "channel", additive=False).set_index("value")
    assert 0.0 < table.loc["small", "confidence"] < table.loc["big", "confidence"] <= 1.0


def test_a_segment_against_the_rest_splits_like_a_two_valued_dimension():
    leaves = _leaves(
        [
            ("app", "x", 40, 100, 30, 100),
            ("app", "y", 40, 100, 30, 100),
            ("web", "x", 60, 100, 60, 100),
        ]
    )
    row = segment_split(leaves, leaves["channel"].eq("app").to_numpy(), additive=False)
    by_value = split(leaves, "channel", additive=False).set_index("value").loc["app"]
    assert row.drop("value").to_dict() == pytest.approx(by_value.to_dict())
