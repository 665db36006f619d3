"""Calendar of a metric: its periods, which of them are complete, and which may be judged."""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, timedelta

import holidays
import pandas as pd

from agent.model import Note

__all__ = [
    "CHUNK",
    "chunk_start",
    "evaluated_period",
    "grid",
    "holiday_windows",
    "holiday_notes",
    "period_end",
    "step",
    "unjudged_reasons",
]


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


CHUNK = {"day": 35, "week": 10, "month": 6}
"""Periods judged on one cut of a series (see ``chunk_start``)."""
_EPOCH = date(2000, 1, 3)
"""A Monday: chunks of periods are counted from it."""


def chunk_start(period: pd.Timestamp, grain: str) -> pd.Timestamp:
    """The first period of the chunk of ``CHUNK[grain]`` periods that holds ``period``.

    Chunks lie on a fixed calendar, counted from a Monday in 2000. Every period of a
    chunk is judged on the series cut at the chunk's start less the metric's history,
    so what a period is judged against never depends on the range a run asked for:
    ``backfill`` from any start and a daily run see the same series up to the period.
    """
    day, size = period.date(), CHUNK[grain]
    if grain == "day":
        start = day - timedelta(days=(day - _EPOCH).days % size)
    elif grain == "week":
        start = day - timedelta(weeks=((day - _EPOCH).days // 7) % size)
    else:
        months = (day.year - _EPOCH.year) * 12 + day.month - 1
        first = months - months % size
        start = date(_EPOCH.year + first // 12, first % 12 + 1, 1)
    return pd.Timestamp(start).tz_localize(period.tz)


HOLIDAY_SHARE = 1 / 7
"""A period whose measurement span has more than this share of public holidays (more
than one day a week) is not judged: its customers behave like on a holiday."""


def unjudged_reasons(
    index: pd.DatetimeIndex,
    *,
    grain: str,
    country: str,
    data_end: pd.Timestamp | None,
    maturity: pd.Timedelta | None = None,
    reach: tuple[int, int] = (0, 0),
) -> pd.Series:
    """Per period, why it may not be judged (``""``: it may): ``partial`` (not complete
    at the newest data), ``immature`` (its retention window has not passed), ``holiday``
    (shaped by public holidays).

    ``data_end`` is the newest event time (timezone-aware); ``maturity`` how long
    after a period's end its value is final (retention windows). ``reach`` is how
    many days before the period's start and after its end the metric looks at
    (churn and revisit windows): holidays there shape the value too.
    """
    index = index.sort_values()
    if data_end is None:
        return pd.Series("partial", index=index, dtype=object)
    why = pd.Series("", index=index, dtype=object)
    last_day = data_end.normalize()
    ends = _last_days(index, grain)
    if len(index):
        why[_holiday_shaped(index, ends, country, reach).to_numpy()] = "holiday"
    if maturity is not None:
        why[(ends + maturity > last_day)] = "immature"
    why[ends > last_day] = "partial"
    return why


def holiday_notes(why: pd.Series, country: str) -> list[Note]:
    """The note saying how many periods holidays keep from being judged (if any)."""
    count = int((why == "holiday").sum())
    return [Note("note_holidays", {"count": count, "country": country})] if count else []


def _holiday_shaped(
    index: pd.DatetimeIndex, ends: pd.DatetimeIndex, country: str, reach: tuple[int, int]
) -> pd.Series:
    """True for periods with more than HOLIDAY_SHARE holidays in their own days, or in
    their whole measurement span (the period and the days ``reach`` adds around it)."""
    back, forward = reach
    days_off = _days_off(country, index, ends, reach)
    shaped = []
    for start, end in zip(index, ends, strict=True):
        own = pd.date_range(start.date(), end.date())
        span = pd.date_range(
            (start - pd.DateOffset(days=back)).date(), (end + pd.DateOffset(days=forward)).date()
        )
        shaped.append(any(_share_off(days, days_off) > HOLIDAY_SHARE for days in (own, span)))
    return pd.Series(shaped, index=index)


def _share_off(days: pd.DatetimeIndex, days_off: holidays.HolidayBase) -> float:
    return sum(d.date() in days_off for d in days) / len(days)


def holiday_windows(
    index: pd.DatetimeIndex, *, grain: str, country: str, window: tuple[int, int]
) -> pd.Series:
    """True for periods whose look-back or churn window holds a public holiday: the
    ``window`` days before the period's start and after its end that the metric reads
    besides the period itself (a revisit look-back, a churn population and lapse window,
    a retention window). Holidays in the period itself are ``unjudged_reasons``' business.

    Such a period is not like the others — a holiday in a 7-day look-back moves the next
    day's revisit rate, three holidays in a churn population window move its churn by a
    third — so it is judged only against periods whose windows held one too.
    """
    if not len(index):
        return pd.Series(False, index=index, dtype=bool)
    back, forward = window
    ends = _last_days(index, grain)
    days_off = sorted(_days_off(country, index, ends, window))
    day = pd.DateOffset(days=1)  # calendar days: a daylight-saving day has 23 or 25 hours
    held = [
        _holds(days_off, (start - pd.DateOffset(days=back)).date(), (start - day).date())
        or _holds(days_off, (end + day).date(), (end + pd.DateOffset(days=forward)).date())
        for start, end in zip(index, ends, strict=True)
    ]
    return pd.Series(held, index=index, dtype=bool)


def _last_days(index: pd.DatetimeIndex, grain: str) -> pd.DatetimeIndex:
    """Each period's last day, in calendar days: 24 hours before the next period starts
    is the day before on the 23-hour day of a daylight-saving change."""
    return index + step(grain) - pd.DateOffset(days=1)


def _days_off(
    country: str, index: pd.DatetimeIndex, ends: pd.DatetimeIndex, reach: tuple[int, int]
) -> holidays.HolidayBase:
    """The public holidays of ``country`` in every year the periods and the ``reach``
    (days before, days after) around them touch."""
    back, forward = reach
    first = (index.min() - pd.DateOffset(days=back)).year
    last = (ends.max() + pd.DateOffset(days=forward)).year
    return holidays.country_holidays(country, years=range(first, last + 1))


def _holds(days: list[date], first: date, last: date) -> bool:
    """Whether the sorted ``days`` hold one from ``first`` to ``last`` (none when empty)."""
    at = bisect_left(days, first)
    return at < len(days) and days[at] <= last
