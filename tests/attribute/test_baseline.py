"""compare_cubes: which periods form the actual and the expected leaves."""

from __future__ import annotations

import pandas as pd
import pytest

from agent.attribute.baseline import compare_cubes
from agent.model import Direction, Finding, FindingKind, Severity

# 2024-02-15 is a Thursday; New York switches to summer time on 2024-03-10.
DAYS = pd.date_range("2024-02-15", periods=40, freq="D", tz="America/New_York")


def _finding(
    kind: FindingKind, period: pd.Timestamp, since: pd.Timestamp, **segment: str
) -> Finding:
    return Finding(
        metric="m",
        segment=dict(segment),
        kind=kind,
        period=period,
        value=0.0,
        expected=0.0,
        lower=0.0,
        upper=0.0,
        direction=Direction.DOWN,
        severity=Severity.WARNING,
        score=1.0,
        since=since,
    )


@pytest.fixture
def cube() -> pd.DataFrame:
    """``app`` has num = day index every day; ``web`` exists on day 35 only."""
    app = pd.DataFrame({"period": DAYS, "channel": "app", "num": range(40), "den": 10.0})
    web = pd.DataFrame({"period": [DAYS[35]], "channel": ["web"], "num": [5.0], "den": [5.0]})
    return pd.concat([app, web], ignore_index=True).astype({"num": float})


def _by_channel(frame: pd.DataFrame) -> dict[str, tuple[float, float]]:
    return {r.channel: (r.num, r.den) for r in frame.itertuples()}


def test_daily_anomaly_compares_with_same_weekday_of_previous_four_weeks(cube):
    finding = _finding(FindingKind.ANOMALY, DAYS[35], DAYS[35])
    actual, expected = compare_cubes(cube, finding, ["channel"], grain="day")
    assert _by_channel(actual) == {"app": (35.0, 10.0), "web": (5.0, 5.0)}
    # days 28, 21, 14, 7 (two of them before the DST switch): mean 17.5; web never there
    assert _by_channel(expected) == {"app": (17.5, 10.0)}


def test_other_grains_compare_with_previous_four_periods(cube):
    finding = _finding(FindingKind.THRESHOLD, DAYS[35], DAYS[35])
    _, expected = compare_cubes(cube, finding, ["channel"], grain="week")
    assert _by_channel(expected) == {"app": ((31 + 32 + 33 + 34) / 4, 10.0)}


def test_change_point_averages_since_to_period_against_the_28_periods_before(cube):
    finding = _finding(FindingKind.CHANGE_POINT, DAYS[34], DAYS[30])
    actual, expected = compare_cubes(cube, finding, ["channel"], grain="day")
    assert _by_channel(actual) == {"app": (32.0, 10.0)}  # mean of days 30..34
    assert _by_channel(expected) == {"app": (15.5, 10.0)}  # mean of days 2..29


def test_leaf_absent_in_some_periods_counts_as_zero_there(cube):
    finding = _finding(FindingKind.CHANGE_POINT, DAYS[36], DAYS[35])
    actual, _ = compare_cubes(cube, finding, ["channel"], grain="day")
    assert _by_channel(actual) == {"app": (35.5, 10.0), "web": (2.5, 2.5)}


def test_finding_on_a_segment_compares_only_that_segment(cube):
    finding = _finding(FindingKind.ANOMALY, DAYS[35], DAYS[35], channel="web")
    actual, expected = compare_cubes(cube, finding, ["channel"], grain="day")
    assert _by_channel(actual) == {"web": (5.0, 5.0)}
    assert expected.empty
