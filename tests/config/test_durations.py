"""Durations and crontab schedules read the way a user writes them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agent.config.durations import cron_trigger, next_runs, parse_duration

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.mark.parametrize("text", ["30d", "30 days", "P30D", "720h"])
def test_thirty_days_many_ways(text: str) -> None:
    assert parse_duration(text) == timedelta(days=30)


@pytest.mark.parametrize("text", ["30 dys", "0d", "30", "P1M", "", "-3d"])
def test_bad_durations_say_how_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="30d, 30 days or P30D|P30D"):
        parse_duration(text)


def test_crontab_monday_is_1_not_apscheduler_0() -> None:
    # 2026-11-23 is a Monday; at 10:00 the 09:00 run has passed.
    runs = next_runs(
        cron_trigger("0 9 * * 1", "Asia/Seoul"), datetime(2026, 11, 23, 10, tzinfo=SEOUL)
    )
    assert [r.strftime("%a %Y-%m-%d %H:%M %Z") for r in runs] == [
        "Mon 2026-11-30 09:00 KST",
        "Mon 2026-12-07 09:00 KST",
        "Mon 2026-12-14 09:00 KST",
    ]


@pytest.mark.parametrize(
    ("dow", "weekdays"),
    [
        ("0", {"Sun"}),
        ("7", {"Sun"}),
        ("1-5", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("0,6", {"Sat", "Sun"}),
        ("*/2", {"Sun", "Tue", "Thu", "Sat"}),
        ("sat", {"Sat"}),
    ],
)
def test_crontab_weekday_fields(dow: str, weekdays: set[str]) -> None:
    runs = next_runs(
        cron_trigger(f"0 9 * * {dow}", "UTC"),
        datetime(2026, 11, 23, tzinfo=ZoneInfo("UTC")),
        count=14,
    )
    assert {r.strftime("%a") for r in runs} == weekdays


@pytest.mark.parametrize("expr", ["0 9 * *", "0 9 * * 8", "61 9 * * *"])
def test_bad_cron_is_a_value_error(expr: str) -> None:
    with pytest.raises(ValueError):
        cron_trigger(expr, "UTC")
