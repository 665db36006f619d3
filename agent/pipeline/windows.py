"""The windows a metric's periods read, and what follows for judging them.

A revisit rate reads a look-back before its period, a churn rate a population window and
a lapse window, a retention rate a window after it. A period whose window holds a public
holiday is not like the others (a holiday in a 7-day look-back moves the next day's
revisit rate; three holidays in a churn population window move the churn of the two
weeks after by a third), so it is judged only against periods whose windows held one
too, and the others only against each other: two kinds of period, each needing its own
history, so such a metric's series reaches back twice its ``history``.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from agent.config import MetricSpec
from agent.cube import MetricSeries
from agent.model import Note
from agent.periods import SHORTEST, bucket_start, holiday_windows

__all__ = ["LIKE_HISTORY", "judged_only", "like_notes", "like_periods", "series_start", "window"]

LIKE_HISTORY = 2
"""How many times its ``history`` a metric whose periods read a window reads."""


def window(spec: MetricSpec) -> tuple[int, int] | None:
    """Days before a period's start and after its end that its value reads, for metrics
    that read a window (None for the others): a revisit look-back, a churn population and
    lapse window (two windows back from the period's end), a retention window."""
    if spec.kind == "returning" and spec.lookback is not None:
        return spec.lookback.days, 0
    if spec.kind == "churn" and spec.window is not None:
        return max(2 * spec.window.days - SHORTEST[spec.grain].days, 0), 0
    if spec.kind == "retention" and spec.window is not None:
        return 0, spec.window.days
    return None


def series_start(chunk: pd.Timestamp, spec: MetricSpec) -> pd.Timestamp:
    """Where the series that judges the periods of ``chunk`` (``periods.chunk_start``)
    starts: the metric's history before it, twice that for a metric reading a window."""
    history = spec.history * (LIKE_HISTORY if window(spec) is not None else 1)
    return pd.Timestamp(bucket_start((chunk - history).date(), spec.grain))


def like_periods(index: pd.Index, spec: MetricSpec, country: str) -> pd.Series | None:
    """Per period of ``index``, whether a window its value reads holds a public holiday
    of ``country`` (None: the metric reads no window)."""
    reads = window(spec)
    if reads is None:
        return None
    return holiday_windows(pd.DatetimeIndex(index), grain=spec.grain, country=country, window=reads)


def like_notes(like: pd.Series | None, country: str) -> list[Note]:
    """The report's note on how many periods were judged only against their like."""
    if like is None or not like.any():
        return []
    return [Note("note_holiday_windows", {"count": int(like.sum()), "country": country})]


def judged_only(series: MetricSeries, kind: pd.Series) -> MetricSeries:
    """``series`` with only the periods of ``kind`` judged: the others are neither judged
    nor a baseline for them."""
    mask = kind.reindex(series.frame.index, fill_value=False).astype(bool)
    return replace(series, frame=series.frame.assign(judged=series.judged & mask))
