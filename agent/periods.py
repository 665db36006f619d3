"""The calendar of a metric: its periods, which of them are complete, and which may be judged.

Every period computation lives here, for the warehouse queries (``agent.sources``) as
for the loop: a grain's bucket and step, a run's judged range, the chunks periods are
judged in, the partial, immature and holiday periods.

Periods are the starts of their buckets in the configured timezone. Hours are wall-clock
hours: the warehouse's timestamps are naive local time, so a day has as many hours as
its wall clock shows. The 23-hour day of a spring-forward change has no 02:00; on the
25-hour day of a fall-back change the two 01:00 hours cannot be told apart in naive
timestamps, so they are one period, two hours long, starting at the first (``DST_HOUR``:
not judged, nor a baseline). Every hour's rows are counted once and no hour is invented.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, datetime, timedelta
from typing import Literal

import holidays
import pandas as pd

from agent.model import Note

__all__ = [
    "CHUNK",
    "GRAINS",
    "Grain",
    "SHORTEST",
    "STEPS",
    "UNIT",
    "bucket_start",
    "chunk_end",
    "chunk_start",
    "day_hours",
    "evaluated_period",
    "grid",
    "holiday_notes",
    "holiday_windows",
    "judged_range",
    "last_start",
    "localize",
    "localize_periods",
    "next_bucket",
    "period_end",
    "step",
    "subdaily",
    "unjudged_reasons",
]

Grain = Literal["hour", "day", "week", "month"]
GRAINS: tuple[Grain, ...] = ("hour", "day", "week", "month")
STEPS: dict[str, dict[str, int]] = {
    "hour": {"hours": 1},
    "day": {"days": 1},
    "week": {"days": 7},  # a week as 7 days: Trino has no WEEK interval unit
    "month": {"months": 1},
}
"""One period of each grain, as the parts of a date offset (pandas) or interval (SQL)."""
UNIT = {"hour": "h", "day": "D", "week": "W", "month": "M"}
"""Each grain's truncation unit in the warehouse (ISO weeks start on Monday)."""
SHORTEST = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=28),
}
"""Each grain's shortest period."""


def subdaily(grain: str) -> bool:
    return grain == "hour"


def step(grain: str) -> pd.DateOffset:
    """One period of ``grain``: days, weeks and months in calendar (wall-clock) steps."""
    return pd.DateOffset(**STEPS[grain])  # type: ignore[arg-type]


def bucket_start(day: date, grain: str) -> date:
    """Start of the grain bucket holding ``day`` (ISO weeks start on Monday). A date
    names a whole day: for hours, the day whose hours it holds."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if grain == "month" else day


def next_bucket(start: date, grain: str) -> date:
    """Start of the bucket after the one starting at ``start`` (for hours: the next day)."""
    if grain == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=7 if grain == "week" else 1)


def last_start(day: date, grain: str) -> datetime:
    """The naive start of the last period of the bucket starting at ``day``: the bucket
    itself, or for hours the day's 23:00 (a wall-clock hour every day has)."""
    start = datetime(day.year, day.month, day.day)
    return start + timedelta(hours=23) if subdaily(grain) else start


def evaluated_period(as_of: date, grain: str) -> date:
    """The start of the latest period of ``grain`` that is complete at the end of ``as_of``
    (for hours: ``as_of`` itself, the day whose hours are judged)."""
    day = pd.Timestamp(as_of)
    if grain in ("day", "hour"):
        return day.date()
    start = day.to_period("W-SUN" if grain == "week" else "M").start_time
    if start + step(grain) - pd.Timedelta(days=1) > day:
        start -= step(grain)
    return start.date()


def judged_range(first: date, last: date, grain: str, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last period a run over the days ``first`` to ``last`` judges: the
    periods complete on them, or for hours every hour of those days."""
    start = localize(pd.Timestamp(evaluated_period(first, grain)), tz)
    end = pd.Timestamp(last_start(evaluated_period(last, grain), grain))
    return start, localize(end, tz)


def localize(stamp: pd.Timestamp, tz: str) -> pd.Timestamp:
    """A naive wall-clock period start in ``tz``: a repeated hour is its first occurrence,
    a skipped one (rows a loader wrote with a time the clock never showed) the next hour."""
    return stamp.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")


def localize_periods(periods: pd.Series, tz: str) -> pd.Series:
    """``localize`` for a column of periods."""
    stamps = pd.to_datetime(periods)
    ambiguous = pd.Series(True, index=stamps.index).to_numpy()
    return stamps.dt.tz_localize(tz, ambiguous=ambiguous, nonexistent="shift_forward")


def period_end(period: pd.Timestamp, grain: str) -> pd.Timestamp:
    """The last instant of ``period`` (one nanosecond before the next period starts)."""
    return _next(period, grain) - pd.Timedelta(1, "ns")


def _next(period: pd.Timestamp, grain: str) -> pd.Timestamp:
    """The start of the period after ``period``: a fall-back day's first 01:00 lasts
    until 02:00, two hours later."""
    after = period + step(grain)
    if subdaily(grain) and after.tzinfo is not None:
        while _wall(after) <= _wall(period):
            after = after + step(grain)
    return after


def _wall(stamp: pd.Timestamp) -> pd.Timestamp:
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def grid(first: pd.Timestamp, last: pd.Timestamp, grain: str) -> list[pd.Timestamp]:
    """Every period start from ``first`` to ``last`` inclusive (wall-clock steps; for
    hours, the hours the wall clock shows, each once)."""
    if subdaily(grain) and first.tzinfo is not None:
        instants = pd.date_range(first, last, freq="h")
        walls = pd.DatetimeIndex(instants.tz_localize(None)).drop_duplicates()
        return [localize(w, str(first.tz)) for w in walls]
    out, period = [], first
    while period <= last:
        out.append(period)
        period = period + step(grain)
    return out


def day_hours(day: date, tz: str) -> list[pd.Timestamp]:
    """The hours of ``day`` in ``tz`` as periods (23 on a spring-forward day, 24 else)."""
    start = localize(pd.Timestamp(day), tz)
    return grid(start, localize(pd.Timestamp(last_start(day, "hour")), tz), "hour")


CHUNK = {"hour": 7 * 24, "day": 35, "week": 10, "month": 6}
"""Periods judged on one cut of a series (see ``chunk_start``); hours in chunks of 7 days."""
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
    if subdaily(grain):
        midnight = pd.Timestamp(day - timedelta(days=(day - _EPOCH).days % (size // 24)))
        return midnight if period.tz is None else localize(midnight, str(period.tz))
    if grain == "day":
        start = day - timedelta(days=(day - _EPOCH).days % size)
    elif grain == "week":
        start = day - timedelta(weeks=((day - _EPOCH).days // 7) % size)
    else:
        months = (day.year - _EPOCH.year) * 12 + day.month - 1
        first = months - months % size
        start = date(_EPOCH.year + first // 12, first % 12 + 1, 1)
    return pd.Timestamp(start).tz_localize(period.tz)


def chunk_end(start: pd.Timestamp, grain: str) -> pd.Timestamp:
    """The start of the chunk after the one starting at ``start``."""
    if subdaily(grain):
        days = timedelta(days=CHUNK[grain] // 24)
        return localize(pd.Timestamp(start.date() + days), str(start.tz))
    return start + step(grain) * CHUNK[grain]


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
    (shaped by public holidays), ``dst`` (a fall-back day's 01:00, two hours long).

    A day is complete once the newest data is on it; an hour only once newer data is
    past its end (an hour's last minutes are still arriving while it is the newest).

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
    if subdaily(grain):
        why[[_next(p, grain) - p > pd.Timedelta(hours=1) for p in index]] = "dst"
        why[[period_end(p, grain) >= data_end for p in index]] = "partial"
        return why
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
    is the day before on the 23-hour day of a daylight-saving change. An hour's is its day."""
    if subdaily(grain):
        return index.normalize()
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
