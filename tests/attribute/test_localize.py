"""Root causes across dimensions: a planted cause in a small cube comes first, split right."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from agent.attribute import attribute, localize
from agent.model import Direction, Finding, FindingKind, Severity

COLUMNS = ["num_before", "den_before", "num_after", "den_after"]

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


def _leaves(dims: list[str], rows: list[tuple]) -> pd.DataFrame:
    """Rows of (dimension values..., num_before, den_before, num_after, den_after)."""
    return pd.DataFrame(rows, columns=[*dims, *COLUMNS]).astype({c: float for c in COLUMNS})


def _sides(leaves: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    dims = [c for c in leaves.columns if c not in COLUMNS]
    actual = leaves[[*dims, "num_after", "den_after"]].set_axis([*dims, "num", "den"], axis=1)
    expected = leaves[[*dims, "num_before", "den_before"]].set_axis([*dims, "num", "den"], axis=1)
    return actual, expected


ADDITIVE = _leaves(
    ["channel", "device"],
    [
        ("app", "android", 400, 1, 200, 1),
        ("app", "ios", 200, 1, 100, 1),
        ("web", "android", 300, 1, 300, 1),
        ("web", "ios", 300, 1, 300, 1),
        ("store", "android", 100, 1, 100, 1),
        ("store", "ios", 100, 1, 100, 1),
    ],
)


def test_additive_drop_in_one_channel_is_the_only_cause_and_devices_are_ruled_out():
    found = localize(ADDITIVE, ["channel", "device"], additive=True)
    assert [c.segment for c in found.causes] == [{"channel": "app"}]
    app = found.causes[0]
    assert (app.value_before, app.value_after) == (600.0, 300.0)
    assert (app.rate_effect, app.mix_effect, app.share) == (-300.0, 0.0, 1.0)
    assert app.confidence > 0.999
    assert (found.explained, found.others) == (1.0, 0.0)
    assert found.checked == ["channel", "device"]
    assert [c.segment for c in found.ruled_out] == [
        {"channel": "store"},  # 0 % of the change, like web (first in order wins)
        {"device": "android"},
    ]
    assert found.ruled_out[1].share == pytest.approx(2 / 3)


def test_ratio_pure_rate_change_is_all_rate_effect():
    # channel A: rate 0.4 -> 0.3 at constant size; B stays at 0.6; R 0.5 -> 0.45
    leaves = _leaves(
        ["channel", "device"],
        [
            ("A", "x", 100, 250, 75, 250),
            ("A", "y", 100, 250, 75, 250),
            ("B", "x", 150, 250, 150, 250),
            ("B", "y", 150, 250, 150, 250),
        ],
    )
    found = localize(leaves, ["channel", "device"], additive=False)
    first = found.causes[0]
    assert first.segment == {"channel": "A"}
    assert first.rate_effect == pytest.approx(-0.05)  # (0.3 - 0.4) * (0.5 + 0.5) / 2
    assert first.mix_effect == pytest.approx(0.0)
    assert (first.value_before, first.value_after) == pytest.approx((0.4, 0.3))
    assert (first.size_before, first.size_after) == (500.0, 500.0)
    assert first.share == pytest.approx(1.0)
    assert found.explained == pytest.approx(1.0)


def test_ratio_pure_mix_change_blames_the_growing_low_rate_segment():
    # high: rate 0.5, den 800 -> 600; low: rate 0.1, den 200 -> 400. R 0.42 -> 0.34
    leaves = _leaves(
        ["tier", "device"],
        [("high", "x", 400, 800, 300, 600), ("low", "x", 20, 200, 40, 400)],
    )
    found = localize(leaves, ["tier", "device"], additive=False)
    assert [c.segment for c in found.causes] == [{"tier": "low"}, {"tier": "high"}]
    low, high = found.causes
    assert (low.size_before, low.size_after) == (200.0, 400.0)
    assert low.rate_effect == pytest.approx(0.0)
    assert low.mix_effect == pytest.approx(-0.056)  # (0.4 - 0.2) * (0.1 - 0.38)
    assert low.share == pytest.approx(0.7)
    assert high.mix_effect == pytest.approx(-0.024)  # (0.6 - 0.8) * (0.5 - 0.38)
    assert (found.explained, found.others) == (1.0, 0.0)


def _cube(drop: dict[str, str]) -> pd.DataFrame:
    """channel x device x region, 500 each; leaves matching ``drop`` fall to 250."""
    rows = []
    for leaf in itertools.product(["app", "web", "store"], ["android", "ios"], ["north", "south"]):
        values = dict(zip(["channel", "device", "region"], leaf, strict=True))
        hit = all(values[d] == v for d, v in drop.items())
        rows.append((*leaf, 500, 1, 250 if hit else 500, 1))
    return _leaves(["channel", "device", "region"], rows)


def test_a_two_dimension_combination_is_named_rather_than_either_dimension():
    found = localize(
        _cube({"channel": "app", "device": "android"}),
        ["channel", "device", "region"],
        additive=True,
    )
    assert [c.segment for c in found.causes] == [{"channel": "app", "device": "android"}]
    assert found.causes[0].rate_effect == -500.0
    assert {"channel": "app"} in [c.segment for c in found.ruled_out]


def test_the_most_general_segment_wins_when_all_its_parts_moved():
    found = localize(_cube({"channel": "app"}), ["channel", "device", "region"], additive=True)
    assert [c.segment for c in found.causes] == [{"channel": "app"}]


def test_two_separate_causes_are_both_named_largest_first():
    leaves = _cube({"channel": "app", "device": "android"})
    store_ios = (leaves["channel"] == "store") & (leaves["device"] == "ios")
    leaves.loc[store_ios, "num_after"] = 400.0
    found = localize(leaves, ["channel", "device", "region"], additive=True)
    assert [c.segment for c in found.causes] == [
        {"channel": "app", "device": "android"},
        {"channel": "store", "device": "ios"},
    ]
    assert [c.share for c in found.causes] == pytest.approx([500 / 700, 200 / 700])
    assert found.explained == 1.0


def test_no_change_gives_no_causes():
    leaves = _leaves(
        ["channel", "device"], [("app", "x", 5, 10, 5, 10), ("web", "y", 3, 10, 3, 10)]
    )
    for additive in (True, False):
        found = localize(leaves, ["channel", "device"], additive=additive)
        assert (found.causes, found.explained, found.others) == ([], 0.0, 1.0)


def test_segments_moving_against_the_change_are_not_causes():
    leaves = _leaves(
        ["channel", "device"],
        [
            ("app", "x", 1000, 1, 500, 1),
            ("web", "x", 1000, 1, 1020, 1),  # moved up while the total fell
            ("store", "x", 1000, 1, 990, 1),
        ],
    )
    found = attribute(FINDING, *_sides(leaves), ["channel", "device"], additive=True)
    assert [c.segment for c in found.causes] == [{"channel": "app"}]
    assert found.causes[0].share == pytest.approx(500 / 490)
    assert found.explained == 1.0  # capped for display


def test_finding_segment_dimension_is_not_an_explanation():
    leaves = _leaves(
        ["channel", "device"], [("app", "x", 1000, 1, 500, 1), ("app", "y", 1000, 1, 1000, 1)]
    )
    finding = Finding(**{**FINDING.__dict__, "segment": {"channel": "app"}})
    found = attribute(finding, *_sides(leaves), ["channel", "device"], additive=True)
    assert [c.segment for c in found.causes] == [{"device": "x"}]
    assert found.checked == ["device"]


def test_a_score_that_can_be_negative_moves_by_a_shift_of_its_rate():
    # NPS-like: promoters minus detractors per response; call_center falls from 0.3 to -0.1
    rows = [
        (channel, region, 0.3 * 400, 400, (-0.1 if channel == "call_center" else 0.3) * 400, 400)
        for channel in ("call_center", "app", "web")
        for region in ("north", "south")
    ]
    found = localize(_leaves(["channel", "region"], rows), ["channel", "region"], additive=False)
    assert [c.segment for c in found.causes] == [{"channel": "call_center"}]
    assert found.causes[0].value_after == pytest.approx(-0.1)


def test_a_second_cause_under_a_tenth_of_the_change_is_named_when_beyond_noise():
    rows = []
    for leaf in itertools.product(["app", "web", "store"], ["android", "ios"], ["north", "south"]):
        after = {("app", "android"): 0, ("store", "ios"): 45_500}.get(leaf[:2], 50_000)
        rows.append((*leaf, 50_000, 1, after, 1))
    found = localize(
        _leaves(["channel", "device", "region"], rows),
        ["channel", "device", "region"],
        additive=True,
    )
    assert [c.segment for c in found.causes] == [
        {"channel": "app", "device": "android"},
        {"channel": "store", "device": "ios"},
    ]
    assert [c.share for c in found.causes] == pytest.approx([100 / 109, 9 / 109])


def test_a_local_drop_is_found_when_chance_moves_of_big_leaves_lift_the_total():
    rng = np.random.default_rng(7)
    leaves = pd.DataFrame(
        itertools.product([f"c{i}" for i in range(6)], [f"d{i}" for i in range(6)], ["n", "s"]),
        columns=["channel", "device", "region"],
    )
    big = np.arange(len(leaves)) % 19 == 0  # a few big leaves, none in the incident
    volume = np.where(big, 100_000.0, 100.0)
    after = volume * np.where((leaves["channel"] == "c1") & (leaves["device"] == "d2"), 0.5, 1)
    error = np.where(big, -0.03, rng.normal(0, 0.03, len(leaves)))  # 3 % forecast errors
    leaves = leaves.assign(
        num_before=volume * (1 + error),
        den_before=1.0,
        num_after=after,
        den_after=1.0,
    )
    assert leaves["num_after"].sum() > leaves["num_before"].sum()
    found = localize(leaves, ["channel", "device", "region"], additive=True)
    assert [c.segment for c in found.causes] == [{"channel": "c1", "device": "d2"}]
    incident = leaves[(leaves["channel"] == "c1") & (leaves["device"] == "d2")]
    moved = incident["num_after"].sum() - incident["num_before"].sum()  # about -100
    assert found.causes[0].rate_effect == pytest.approx(moved)
    assert found.causes[0].share < 0  # it moved against the (chance) rise of the total


def test_a_shift_shared_by_every_segment_is_not_blamed_on_any_of_them():
    # 1,200 leaves; every forecast is 4 % too high (a baseline lagging a slow decline), so
    # every channel is a little below it, and channel c3 also falls by 30 %
    rng = np.random.default_rng(3)
    leaves = pd.DataFrame(
        itertools.product(
            [f"c{i}" for i in range(10)], [f"d{i}" for i in range(10)], [f"r{i}" for i in range(12)]
        ),
        columns=["channel", "device", "region"],
    )
    leaves = leaves.assign(
        num_before=1000 * 1.04 * (1 + rng.normal(0, 0.03, len(leaves))),
        den_before=1.0,
        num_after=np.where(leaves["channel"] == "c3", 700.0, 1000.0),
        den_after=1.0,
    )
    found = localize(leaves, ["channel", "device", "region"], additive=True)
    assert [c.segment for c in found.causes] == [{"channel": "c3"}]
