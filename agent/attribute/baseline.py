"""The two leaf tables attribution compares: what happened and what was expected.

Both sides are averaged per period so they are on the same scale: a leaf absent
from some periods of a window counts as 0 in those periods.
"""

from __future__ import annotations

import pandas as pd

from agent.cube import slice_cube
from agent.model import Finding, FindingKind

__all__ = ["compare_cubes", "CHANGE_POINT_HISTORY", "SEASONAL_LAGS"]

CHANGE_POINT_HISTORY = 28
"""How many periods before a change point form its baseline."""

SEASONAL_LAGS = 4
"""How many earlier periods (same weekday for daily grain) form the baseline."""

MAX_WEEKS_BACK = 26
"""How far back the same-weekday baseline of a long-running episode may reach."""


def compare_cubes(
    cube: pd.DataFrame,
    finding: Finding,
    dimensions: list[str],
    *,
    grain: str,
    periods: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(actual, expected) leaf tables (dimensions..., num, den) for ``finding``.

    The cube is first restricted to the finding's segment. For a change point,
    actual is the mean over ``since``..``period`` and expected the mean over up to 28
    periods before ``since``. Otherwise actual is the finding's period and expected
    the mean over the last 4 same weekdays (``grain="day"``) or the last 4 periods
    (any other grain) before ``since``: an episode that has lasted for weeks is compared
    with how things were before it began, not with its own first days.

    ``periods``: the periods of the cube's rows in the finding's segment, when ``cube``
    holds only some of those rows (the windows, and the count each mean divides by,
    are those of the whole slice).
    """
    rows = slice_cube(cube, finding.segment)
    periods = pd.Series(rows["period"].unique() if periods is None else periods)
    periods = periods.sort_values(ignore_index=True)
    period, since = pd.Timestamp(finding.period), pd.Timestamp(finding.since)
    if finding.kind == FindingKind.CHANGE_POINT:
        after = periods[(periods >= since) & (periods <= period)]
        before = periods[periods < since].tail(CHANGE_POINT_HISTORY)
    else:
        after = periods[periods == period]
        before = _seasonal_history(periods[periods < since], period, grain)
    return _mean_leaves(rows, after, dimensions), _mean_leaves(rows, before, dimensions)


def _seasonal_history(periods: pd.Series, period: pd.Timestamp, grain: str) -> pd.Series:
    """The last SEASONAL_LAGS of ``periods`` (same weekday as ``period`` for daily grain,
    the same hour of the same weekday for hourly grain)."""
    if grain in ("day", "hour"):
        # DateOffset keeps the wall-clock time across daylight-saving shifts.
        lags = {period - pd.DateOffset(weeks=k) for k in range(1, MAX_WEEKS_BACK + 1)}
        return periods[periods.isin(lags)].tail(SEASONAL_LAGS)
    return periods[periods < period].tail(SEASONAL_LAGS)


def _mean_leaves(rows: pd.DataFrame, periods: pd.Series, dimensions: list[str]) -> pd.DataFrame:
    """Sum each leaf over ``periods`` and divide by their count (0 periods → no leaves)."""
    inside = rows[rows["period"].isin(periods)]
    sums = inside.groupby(dimensions, dropna=False, sort=True)[["num", "den"]].sum()
    return (sums / max(len(periods), 1)).astype(float).reset_index()
