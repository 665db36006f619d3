"""Which periods may be judged: complete, mature and not shaped by public holidays."""

from __future__ import annotations

from datetime import date

import pandas as pd

from agent.periods import evaluated_period, judged_mask

TZ = "Asia/Seoul"


def daily(first: str, last: str) -> pd.DatetimeIndex:
    return pd.date_range(first, last, freq="D", tz=TZ)


def unjudged(index: pd.DatetimeIndex, **kw: object) -> list[str]:
    data_end = pd.Timestamp("2026-12-31 23:00", tz=TZ)
    judged, _ = judged_mask(index, country="KR", data_end=data_end, **kw)  # type: ignore[arg-type]
    return [f"{d:%m-%d}" for d in judged.index[~judged.to_numpy()]]


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


def test_an_incomplete_last_period_is_not_judged() -> None:
    index = daily("2026-11-16", "2026-11-20")
    judged, _ = judged_mask(
        index, grain="day", country="KR", data_end=pd.Timestamp("2026-11-19 23:50", tz=TZ)
    )
    assert judged.tolist() == [True, True, True, True, False]


def test_evaluated_period_is_the_latest_complete_one() -> None:
    assert evaluated_period(date(2026, 11, 20), "day") == date(2026, 11, 20)
    assert evaluated_period(date(2026, 11, 20), "week") == date(2026, 11, 9)
    assert evaluated_period(date(2026, 11, 22), "week") == date(2026, 11, 16)
    assert evaluated_period(date(2026, 11, 20), "month") == date(2026, 10, 1)
