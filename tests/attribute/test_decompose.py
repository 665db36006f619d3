"""Contributions, the rate/mix split, confidence, and the ranked causes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agent.attribute import attribute, contributions, localize
from agent.attribute.decompose import split
from agent.model import Direction, Finding, FindingKind, Severity

FINDING = Finding(
    metric="m",
    segment={},
    kind=FindingKind.ANOMALY,
    period=pd.Timestamp("2024-03-01", tz="UTC"),
    value=0.0,
    expected=0.0,
    lower=0.0,
    upper=0.0,
    direction=Direction.DOWN,
    severity=Severity.WARNING,
    score=1.0,
    since=pd.Timestamp("2024-03-01", tz="UTC"),
)


def _leaves(rows: list[tuple]) -> pd.DataFrame:
    """(channel, device, num_before, den_before, num_after, den_after) rows."""
    columns = ["channel", "device", "num_before", "den_before", "num_after", "den_after"]
    return pd.DataFrame(rows, columns=columns).astype({c: float for c in columns[2:]})


def _sides(leaves: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    dims = [c for c in leaves.columns if not c.startswith(("num_", "den_"))]
    actual = leaves[[*dims, "num_after", "den_after"]].set_axis([*dims, "num", "den"], axis=1)
    expected = leaves[[*dims, "num_before", "den_before"]].set_axis([*dims, "num", "den"], axis=1)
    return actual, expected


def test_additive_drop_in_one_channel_is_the_first_cause():
    leaves = _leaves(
        [
            ("app", "android", 400, 400, 200, 200),
            ("app", "ios", 200, 200, 100, 100),
            ("web", "android", 300, 300, 300, 300),
            ("web", "ios", 300, 300, 300, 300),
            ("store", "android", 100, 100, 100, 100),
            ("store", "ios", 100, 100, 100, 100),
        ]
    )
    actual, expected = _sides(leaves)
    causes, explained = attribute(FINDING, actual, expected, ["channel", "device"], additive=True)
    assert [c.segment for c in causes] == [
        {"channel": "app"},
        {"device": "android"},
        {"device": "ios"},
    ]
    app = causes[0]
    assert (app.value_before, app.value_after) == (600.0, 300.0)
    assert (app.size_before, app.size_after) == (600.0, 300.0)
    assert (app.rate_effect, app.mix_effect, app.share) == (-300.0, 0.0, 1.0)
    assert causes[1].share == pytest.approx(2 / 3)
    assert app.confidence > 0.999  # |300 - 600| / sqrt(900) = 10 sigma
    assert explained == 1.0


def test_pure_rate_change_has_no_mix_effect():
    # channel A: rate 0.4 -> 0.3 at constant size; B stays at 0.6; R 0.5 -> 0.45
    leaves = _leaves(
        [
            ("A", "x", 100, 250, 75, 250),
            ("A", "y", 100, 250, 75, 250),
            ("B", "x", 150, 250, 150, 250),
            ("B", "y", 150, 250, 150, 250),
        ]
    )
    causes, explained = localize(leaves, ["channel", "device"], additive=False)
    first = causes[0]
    assert first.segment == {"channel": "A"}
    assert first.rate_effect == pytest.approx(-0.05)  # (0.3 - 0.4) * (0.5 + 0.5) / 2
    assert first.mix_effect == pytest.approx(0.0)
    assert (first.value_before, first.value_after) == pytest.approx((0.4, 0.3))
    assert first.share == pytest.approx(1.0)
    assert explained == pytest.approx(1.0)


def test_pure_mix_change_blames_the_growing_low_rate_segment():
    # high: rate 0.5, den 800 -> 600; low: rate 0.1, den 200 -> 400. R 0.42 -> 0.34
    leaves = _leaves(
        [
            ("high", "x", 400, 800, 300, 600),
            ("low", "x", 20, 200, 40, 400),
        ]
    ).rename(columns={"channel": "tier"})
    causes, explained = localize(leaves, ["tier", "device"], additive=False)
    low, high = causes
    assert low.segment == {"tier": "low"}
    assert low.rate_effect == pytest.approx(0.0)
    assert low.mix_effect == pytest.approx(-0.056)  # (0.4 - 0.2) * (0.1 - 0.38)
    assert low.share == pytest.approx(0.7)
    assert high.mix_effect == pytest.approx(-0.024)  # (0.6 - 0.8) * (0.5 - 0.38)
    assert explained == pytest.approx(1.0)


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


def test_no_change_gives_no_causes():
    leaves = _leaves([("app", "x", 5, 10, 5, 10), ("web", "y", 3, 10, 3, 10)])
    assert localize(leaves, ["channel", "device"], additive=False) == ([], 0.0)
    assert localize(leaves, ["channel", "device"], additive=True) == ([], 0.0)


def test_small_opposing_segments_are_not_causes():
    leaves = _leaves(
        [
            ("app", "x", 1000, 1, 500, 1),
            ("web", "x", 1000, 1, 1020, 1),  # moved up while the total fell
            ("store", "x", 1000, 1, 990, 1),  # 10 / 490 of the drop: under 5 %
        ]
    )
    causes, explained = localize(leaves, ["channel", "device"], additive=True, top=5)
    assert [c.segment for c in causes] == [{"channel": "app"}]
    assert causes[0].share == pytest.approx(500 / 490)
    assert explained == 1.0  # capped for display


def test_finding_segment_dimension_is_not_an_explanation():
    leaves = _leaves([("app", "x", 10, 10, 5, 5), ("app", "y", 10, 10, 10, 10)])
    finding = Finding(**{**FINDING.__dict__, "segment": {"channel": "app"}})
    causes, _ = attribute(finding, *_sides(leaves), ["channel", "device"], additive=True)
    assert [c.segment for c in causes] == [{"device": "x"}]
