"""Watching the segment lattice: the segment that moved is found, and only it."""

from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd
import pytest

from agent.detect.bands import Z
from agent.detect.segments import Cells, Judgement, watch_period
from agent.detect.sustained import Rows, spike_z, warning_p
from agent.model import Direction, Segment, Severity
from tests.detect import days

PLATFORMS = {"ios": 0.35, "android": 0.45, "web": 0.2}
CITIES = {"Seoul": 0.5, "Busan": 0.12, "Incheon": 0.2, "Daegu": 0.18}
N = 120
ONSET = 100


def leaves(
    drops: dict[tuple[str, str], float], sessions: float = 40_000.0, seed: int = 0
) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """Daily (orders, sessions) of each platform x city converting at 3 %, each leaf's
    rate cut by ``drops[leaf]`` from day ONSET on."""
    rng = np.random.default_rng(seed)
    out = {}
    for (p, pw), (c, cw) in product(PLATFORMS.items(), CITIES.items()):
        den = np.full(N, sessions * pw * cw)
        rate = np.full(N, 0.03)
        rate[ONSET:] *= 1 - drops.get((p, c), 0.0)
        out[p, c] = (rng.binomial(den.astype(int), rate).astype(float), den)
    return out


def cells(data: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]], pairs: bool = True) -> Cells:
    """Every single value and (with ``pairs``) platform x city pair over the leaves of
    ``data``."""
    segments: list[Segment] = [{"platform": p} for p in PLATFORMS]
    segments += [{"city": c} for c in CITIES]
    segments += [{"platform": p, "city": c} for p, c in product(PLATFORMS, CITIES) if pairs]
    members = np.array(
        [[s.get("platform", p) == p and s.get("city", c) == c for p, c in data] for s in segments]
    )
    num = np.column_stack([v[0] for v in data.values()])
    den = np.column_stack([v[1] for v in data.values()])
    return Cells(
        "conversion", segments, num @ members.T, den @ members.T, False, members, (num, den)
    )


def judgement() -> Judgement:
    rows = Rows.of(pd.Series(True, index=days(N)))
    assert rows is not None
    return Judgement(
        rows=rows,
        noise="share",
        directions=(Direction.DOWN,),
        q=warning_p("medium"),
        sensitivity="medium",
        band_z=Z["medium"],
        spike=spike_z("medium"),
    )


def watch(data: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]], day: int) -> list:
    return watch_period(cells(data), days(N)[day], judgement())


def test_a_checkout_bug_in_one_platform_x_city_is_found_and_named_within_two_periods() -> None:
    # ios & Busan: 4.2 % of sessions, loses 80 % of its conversion (about 5 sigma a day)
    data = leaves({("ios", "Busan"): 0.8})
    first = next(day for day in range(ONSET, ONSET + 5) if watch(data, day))
    assert first <= ONSET + 2
    [finding] = watch(data, first)
    assert finding.segment == {"platform": "ios", "city": "Busan"}
    assert finding.direction is Direction.DOWN and finding.severity is not Severity.INFO
    assert finding.since == days(N)[ONSET]
    assert finding.value < 0.3 * finding.expected
    assert finding.p_value is not None and finding.kind == "anomaly"


def test_a_whole_city_is_one_finding_not_one_per_platform() -> None:
    data = leaves({("ios", "Busan"): 0.5, ("android", "Busan"): 0.5, ("web", "Busan"): 0.5})
    found = watch(data, ONSET + 4)
    assert [f.segment for f in found] == [{"city": "Busan"}]


def test_two_segments_sharing_one_move_are_one_finding() -> None:
    # web & Seoul (10 % of sessions) loses 60 %: web and Seoul both move, and with the
    # pair not watched (as a combination of three dimensions would not be) each one's
    # move is its share of the other's
    data = leaves({("web", "Seoul"): 0.6})
    each = cells(data, pairs=False)
    assert [f.segment for f in watch_period(each, days(N)[ONSET + 4], judgement())] in (
        [{"platform": "web"}],
        [{"city": "Seoul"}],
    )


def test_a_move_of_everything_is_left_to_the_total() -> None:
    data = leaves({leaf: 0.3 for leaf in product(PLATFORMS, CITIES)})
    assert watch(data, ONSET + 4) == []


@pytest.mark.parametrize("seed", [1, 2])
def test_calm_segments_raise_nothing(seed: int) -> None:
    data = leaves({}, seed=seed)
    assert [f for day in range(60, N) for f in watch(data, day)] == []


def test_a_two_day_blip_in_a_segment_does_not_page() -> None:
    data = leaves({}, seed=3)
    orders, sessions = data["ios", "Busan"]
    orders[ONSET : ONSET + 2] *= 0.5  # about 3 sigma for two days
    assert [f for day in range(ONSET, ONSET + 7) for f in watch(data, day)] == []
