"""Late or missing data is its own finding, never a false drop.

A period whose rows have not (all) arrived looks exactly like a collapse of the
metric. Before anything judges a period, this check asks whether its data is there:

* no rows at all for the period → "data for 2026-11-20 is missing";
* the warehouse has no row from the period's last day → "incomplete";
* its volume (the denominator: customers, visits or rows) is under ``LATE_SHARE`` of
  the volume of comparable periods (the same weekday of the last 4 weeks for daily
  data, the same hour of that weekday for hourly data, the last 4 periods otherwise)
  → "looks incomplete".

A period with such a finding is not judged by any detector.
"""

from __future__ import annotations

import math

import pandas as pd

from agent.cube import MetricSeries
from agent.detect.bands import is_daily, wall_clock
from agent.detect.baselines import season_of
from agent.model import Direction, Finding, FindingKind, Note, Severity

__all__ = ["LATE_SHARE", "late_data"]

LATE_SHARE = 0.5
"""A period with less than this share of its usual volume is treated as incomplete."""
COMPARED = 4


def late_data(
    series: MetricSeries,
    period: pd.Timestamp,
    period_end: pd.Timestamp,
    data_end: pd.Timestamp | None,
) -> Finding | None:
    """A LATE_DATA finding for ``period`` of ``series`` (known up to ``period``), or None.

    ``period_end`` is the last instant of the period, ``data_end`` the newest event
    time in the warehouse (both in the series' timezone; None: the table is empty).
    """
    volume = float(series.den.get(period, 0.0))
    usual = _usual_volume(series, period)
    day = period.to_pydatetime()
    if volume <= 0 or data_end is None:
        reason = Note("reason_late_missing", {"day": day})
    elif data_end.normalize() < period_end.normalize():
        newest = data_end.to_pydatetime()
        reason = Note("reason_late_incomplete", {"day": day, "newest": newest})
    elif series.judged.get(period, False) and usual > 0 and volume < LATE_SHARE * usual:
        reason = Note(
            "reason_late_low_volume",
            {"day": day, "volume": volume, "ratio": volume / usual, "usual": usual},
        )
    else:
        return None
    return _finding(series, period, volume, usual, reason)


def _usual_volume(series: MetricSeries, period: pd.Timestamp) -> float:
    """Median volume of the comparable judged periods before ``period`` (0 if none)."""
    earlier = series.frame.loc[series.frame.index < period]
    earlier = earlier[earlier["judged"]]
    wall, at = wall_clock(earlier.index), wall_clock(pd.Index([period]))[0]
    if is_daily(series.frame.index):
        earlier = earlier.loc[wall.day_of_week == at.day_of_week]
    elif season_of(series.frame.index) is not None:  # sub-daily: the same time of the weekday
        earlier = earlier.loc[(wall.day_of_week == at.day_of_week) & (wall.time == at.time())]
    volume = earlier["den"].tail(COMPARED).median()
    return 0.0 if math.isnan(volume) else float(volume)


def _finding(
    series: MetricSeries, period: pd.Timestamp, volume: float, usual: float, reason: Note
) -> Finding:
    return Finding(
        metric=series.metric,
        segment=dict(series.segment or {}),
        kind=FindingKind.LATE_DATA,
        period=period.to_pydatetime(),
        value=volume,
        expected=usual,
        lower=LATE_SHARE * usual,
        upper=math.inf,
        direction=Direction.DOWN,
        severity=Severity.WARNING,
        score=volume / usual if usual > 0 else 0.0,
        since=period.to_pydatetime(),
        reason=reason,
    )
