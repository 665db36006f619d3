"""Calendar of a metric: its periods, which of them are complete, and which may be judged."""

from __future__ import annotations

from datetime import date

import holidays
import pandas as pd

from agent.model import Note

__all__ = ["evaluated_period", "grid", "judged_mask", "period_end", "step"]


def step(grain: str) -> pd.DateOffset:
    return {
        "day": pd.DateOffset(days=1),
        "week": pd.DateOffset(weeks=1),
        "month": pd.DateOffset(months=1),
    }[grain]


def evaluated_period(as_of: date, grain: str) -> date:
    """The start of the latest period of ``grain`` that is complete at the end of ``as_of``."""
    day = pd.Timestamp(as_of)
    if grain == "day":
        return day.date()
    start = day.to_period("W-SUN" if grain == "week" else "M").start_time
    if start + step(grain) - pd.Timedelta(days=1) > day:
        start -= step(grain)
    return start.date()


def period_end(period: pd.Timestamp, grain: str) -> pd.Timestamp:
    """The last instant of ``period`` (one nanosecond before the next period starts)."""
    return period + step(grain) - pd.Timedelta(1, "ns")


def grid(first: pd.Timestamp, last: pd.Timestamp, grain: str) -> list[pd.Timestamp]:
    """Every period start from ``first`` to ``last`` inclusive (wall-clock steps)."""
    out, period = [], first
    while period <= last:
        out.append(period)
        period = period + step(grain)
    return out


HOLIDAY_SHARE = 1 / 7
"""A period whose measurement span has more than this share of public holidays (more
than one day a week) is not judged: its customers behave like on a holiday."""


def judged_mask(
    index: pd.DatetimeIndex,
    *,
    grain: str,
    country: str,
    data_end: pd.Timestamp | None,
    maturity: pd.Timedelta | None = None,
    reach: tuple[int, int] = (0, 0),
) -> tuple[pd.Series, list[Note]]:
    """Which periods may be judged: complete, mature, and not shaped by public holidays.

    ``data_end`` is the newest event time (timezone-aware); ``maturity`` how long
    after a period's end its value is final (retention windows). ``reach`` is how
    many days before the period's start and after its end the metric looks at
    (churn and revisit windows): holidays there shape the value too.
    """
    index = index.sort_values()
    if data_end is None:
        return pd.Series(False, index=index), []
    last_day = data_end.normalize()
    ends = index + step(grain) - pd.Timedelta(days=1)
    judged = pd.Series(ends <= last_day, index=index)
    if maturity is not None:
        judged &= ends + maturity <= last_day
    if not len(index):
        return judged, []
    off = _holiday_shaped(index, ends, country, reach)
    judged &= ~off
    notes = []
    if off.any():
        notes.append(Note("note_holidays", {"count": int(off.sum()), "country": country}))
    return judged, notes


def _holiday_shaped(
    index: pd.DatetimeIndex, ends: pd.DatetimeIndex, country: str, reach: tuple[int, int]
) -> pd.Series:
    """True for periods whose measurement span has more than HOLIDAY_SHARE holidays."""
    back, forward = reach
    first = (index[0] - pd.Timedelta(days=back)).year
    last = (ends[-1] + pd.Timedelta(days=forward)).year
    days_off = holidays.country_holidays(country, years=range(first, last + 1))
    shaped = []
    for start, end in zip(index, ends, strict=True):
        span = pd.date_range(
            (start - pd.Timedelta(days=back)).date(), (end + pd.Timedelta(days=forward)).date()
        )
        shaped.append(sum(d.date() in days_off for d in span) > HOLIDAY_SHARE * len(span))
    return pd.Series(shaped, index=index)
