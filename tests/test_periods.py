"""Which periods may be judged: complete, mature and not shaped by public holidays."""

from __future__ import annotations

from datetime import date

import pandas as pd

from agent.periods import (
    chunk_end,
    chunk_start,
    day_hours,
    evaluated_period,
    grid,
    holiday_windows,
    judged_range,
    period_end,
    unjudged_reasons,
)

TZ = "Asia/Seoul"


def daily(first: str, last: str) -> pd.DatetimeIndex:
    return pd.date_range(first, last, freq="D", tz=TZ)


def unjudged(index: pd.DatetimeIndex, **kw: object) -> list[str]:
    data_end = pd.Timestamp("2026-12-31 23:00", tz=TZ)
    why = unjudged_reasons(index, country="KR", data_end=data_end, **kw)  # type: ignore[arg-type]
    return [f"{d:%m-%d}" for d in why.index[why.to_numpy() != ""]]


def test_a_daily_metric_skips_the_holidays_themselves() -> None:
    # Chuseok 2026 is Sep 24-26; Oct 3 and its substitute Oct 5, Oct 9 follow.
    assert unjudged(daily("2026-09-20", "2026-10-10"), grain="day") == [
        "09-24", "09-25", "09-26", "10-03", "10-05", "10-09",
    ]  # fmt: skip


def test_a_window_metric_skips_the_holidays_and_the_days_whose_window_is_full_of_them() -> None:
    # Churn over 14 days looks 28 days back: 5 or more holidays in 29 days shape it, and
    # a holiday itself is one, whatever its window holds.
    skipped = unjudged(daily("2026-09-01", "2026-11-30"), grain="day", reach=(28, 0))
    assert skipped == ["09-24", "09-25", "09-26", "10-03"] + [f"10-{d:02d}" for d in range(5, 24)]


def test_a_week_with_two_holidays_or_more_is_not_judged() -> None:
    weeks = pd.date_range("2026-09-07", "2026-10-26", freq="7D", tz=TZ)
    # Chuseok week (3 holidays) and Oct 5-11 (2); Sep 28-Oct 4 has only Oct 3.
    assert unjudged(weeks, grain="week") == ["09-21", "10-05"]
    # A weekly revisit rate also looks at the week before.
    assert unjudged(weeks, grain="week", reach=(7, 0)) == ["09-21", "09-28", "10-05"]


def test_days_across_daylight_saving_changes_are_judged_like_any_other() -> None:
    """New York's 23-hour Mar 8 and 25-hour Nov 1, 2026: each day is its own day, and
    a July 4 in a revisit look-back is counted where it falls (it used to crash)."""
    index = pd.date_range("2026-03-01", "2026-11-30", freq="D", tz="America/New_York")
    why = unjudged_reasons(
        index,
        grain="day",
        country="US",
        data_end=pd.Timestamp("2026-11-29 23:00", tz="America/New_York"),
        reach=(7, 0),
    )
    skipped = {f"{d:%m-%d}" for d in why.index[why.to_numpy() == "holiday"]}
    assert {"03-08", "03-09", "11-01", "11-02"}.isdisjoint(skipped)
    assert {
        "05-25",
        "07-03",
        "09-07",
        "11-26",
    } <= skipped  # Memorial, July 4 (observed), Labor, Thanksgiving
    assert why.iloc[-1] == "partial" and (why.iloc[:-1] != "partial").all()


def test_an_incomplete_last_period_is_not_judged() -> None:
    index = daily("2026-11-16", "2026-11-20")
    why = unjudged_reasons(
        index, grain="day", country="KR", data_end=pd.Timestamp("2026-11-19 23:50", tz=TZ)
    )
    assert why.tolist() == ["", "", "", "", "partial"]


def test_evaluated_period_is_the_latest_complete_one() -> None:
    assert evaluated_period(date(2026, 11, 20), "day") == date(2026, 11, 20)
    assert evaluated_period(date(2026, 11, 20), "week") == date(2026, 11, 9)
    assert evaluated_period(date(2026, 11, 22), "week") == date(2026, 11, 16)
    assert evaluated_period(date(2026, 11, 20), "month") == date(2026, 10, 1)


def test_chunks_lie_on_a_fixed_calendar_whatever_is_asked() -> None:
    days = daily("2026-07-20", "2026-12-06")
    starts = pd.Series([chunk_start(d, "day") for d in days], index=days)
    assert list(starts.value_counts()) == [35] * 4  # each day in one block of 35
    first = pd.Timestamp("2026-09-28", tz=TZ)  # a chunk starts here: 35 x 28 days since 2000-01-03
    assert starts[first] == first and starts[first - pd.Timedelta(days=1)] < first
    weeks = pd.date_range("2026-01-05", "2026-12-28", freq="7D", tz=TZ)
    assert {chunk_start(w, "week").day_of_week for w in weeks} == {0}
    months = pd.date_range("2026-01-01", "2026-12-01", freq="MS", tz=TZ)
    assert sorted({chunk_start(m, "month").month for m in months}) == [1, 7]


def windows(index: pd.DatetimeIndex, grain: str, window: tuple[int, int]) -> list[str]:
    held = holiday_windows(index, grain=grain, country="KR", window=window)
    return [f"{d:%m-%d}" for d in index[held.to_numpy()]]


def test_a_look_back_holding_a_holiday_sets_a_day_apart_but_not_the_holiday_itself() -> None:
    # Constitution Day, Fri Jul 17 2026: the 7 days after it look back at it; Jul 17
    # itself is the holiday rule's business (a holiday is not judged at all).
    assert windows(daily("2026-07-10", "2026-07-31"), "day", (7, 0)) == [
        "07-18", "07-19", "07-20", "07-21", "07-22", "07-23", "07-24",
    ]  # fmt: skip


def test_a_churn_window_reaches_two_windows_back() -> None:
    # 14-day churn of day D reads [D-27, D]: Dec 25 is in the windows of Dec 26 .. Jan 21.
    held = windows(daily("2026-12-20", "2027-01-31"), "day", (27, 0))
    assert held[0] == "12-26" and held[-1] == "01-28"  # New Year's Day reaches Jan 28


def test_a_weeks_look_back_is_the_week_before() -> None:
    weeks = pd.date_range("2026-10-05", "2026-11-02", freq="7D", tz=TZ)
    # Oct 5 and 9 fall in the week of Oct 5 (its own days), so the week of Oct 12 is apart.
    assert windows(weeks, "week", (7, 0)) == ["10-05", "10-12"]


NEW_YORK = "America/New_York"


def shown(hours: list[pd.Timestamp]) -> list[str]:
    return [f"{h:%H:%M%z}" for h in hours]


def test_a_day_has_the_hours_its_wall_clock_shows() -> None:
    """New York's Mar 8, 2026 skips 02:00 (23 hours); on Nov 1 the clock shows 01:00
    twice, one period two hours long in naive local timestamps; Seoul has 24 hours."""
    spring = day_hours(date(2026, 3, 8), NEW_YORK)
    assert len(spring) == 23 and "02:00-0500" not in shown(spring)
    assert shown(spring)[:3] == ["00:00-0500", "01:00-0500", "03:00-0400"]
    autumn = day_hours(date(2026, 11, 1), NEW_YORK)
    assert len(autumn) == 24
    assert shown(autumn)[:3] == ["00:00-0400", "01:00-0400", "02:00-0500"]
    assert period_end(autumn[1], "hour") - autumn[1] == pd.Timedelta(hours=2, microseconds=-1e-3)
    seoul = day_hours(date(2026, 11, 1), TZ)
    assert len(seoul) == 24 and {h.utcoffset() for h in seoul} == {pd.Timedelta(hours=9)}


def test_the_hour_still_filling_and_the_repeated_hour_are_not_judged() -> None:
    hours = pd.DatetimeIndex(day_hours(date(2026, 11, 1), NEW_YORK))
    data_end = pd.Timestamp("2026-11-01 05:10", tz=NEW_YORK)
    why = unjudged_reasons(hours, grain="hour", country="US", data_end=data_end)
    assert why.iloc[:5].tolist() == ["", "dst", "", "", ""]  # 00, 01 (two hours), 02-04
    assert set(why.iloc[5:]) == {"partial"}  # 05:00 is still filling at 05:10


def test_the_hours_of_a_public_holiday_are_not_judged() -> None:
    # Chuseok 2026 is Sep 24-26 in Korea.
    hours = pd.DatetimeIndex(day_hours(date(2026, 9, 23), TZ) + day_hours(date(2026, 9, 24), TZ))
    why = unjudged_reasons(
        hours, grain="hour", country="KR", data_end=pd.Timestamp("2026-09-30", tz=TZ)
    )
    assert why.iloc[:24].tolist() == [""] * 24 and set(why.iloc[24:]) == {"holiday"}


def test_hourly_chunks_are_whole_weeks_of_wall_clock_days() -> None:
    hours = [h for d in range(25, 32) for h in day_hours(date(2026, 10, d), NEW_YORK)]
    hours += [h for d in range(1, 9) for h in day_hours(date(2026, 11, d), NEW_YORK)]
    starts = {chunk_start(h, "hour") for h in hours}
    assert [f"{s:%m-%d %H:%M}" for s in sorted(starts)] == [
        "10-19 00:00",
        "10-26 00:00",
        "11-02 00:00",
    ]
    week = pd.Timestamp("2026-10-26", tz=NEW_YORK)
    assert chunk_end(week, "hour") == pd.Timestamp("2026-11-02", tz=NEW_YORK)  # 169 hours on
    first, last = judged_range(date(2026, 11, 1), date(2026, 11, 2), "hour", NEW_YORK)
    assert len(grid(first, last, "hour")) == 48
