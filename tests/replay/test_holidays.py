"""Holidays in windows: a day whose 7-day look-back holds a public holiday is judged only
against days whose look-back held one too. In the shop, regulars stay home on holidays,
so for a week after each one fewer of a day's shoppers were seen in the week before."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import holidays
import pytest

from agent.pipeline.metric_run import MetricJob
from tests.replay.conftest import END, World

SINCE = END - timedelta(days=120)
KR = holidays.KR(years=[2026])


def after_holiday(day: date) -> bool:
    """Whether the 7 days before ``day`` (a week's Monday for the weekly metric) hold one."""
    return any(day - timedelta(days=n) in KR for n in range(1, 8))


def new_alerts(job: MetricJob) -> list[date]:
    return [ep.last_seen.date() for r in job.replay(SINCE, END) for ep in r.alerts]


@pytest.mark.parametrize("name", ["comeback", "weekly_comeback"])
def test_a_holiday_in_the_look_back_does_not_page(shop: World, name: str) -> None:
    job = MetricJob.fetch(shop.config, name, shop.source, SINCE, END)
    assert job.holiday_window is not None
    judged_apart = job.holiday_window[job.series.judged]
    assert judged_apart.any() and not judged_apart.all()
    assert new_alerts(job) == []
    # judged against every day, as before: the days after a holiday page (the weekly
    # metric's dips are too short-lived to page on evidence alone, whichever way)
    unlike = new_alerts(replace(job, holiday_window=None, _cache={}))
    assert all(after_holiday(day) for day in unlike)
    assert unlike or name == "weekly_comeback"
