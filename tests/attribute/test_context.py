"""Behavioural context: known events near the onset and other metrics in the same segment."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from agent.attribute.context import EventSpec, events_from_rows, events_near, related_change
from agent.model import Direction, Finding, FindingKind, Severity

SEOUL = ZoneInfo("Asia/Seoul")


def at(day: int) -> datetime:
    return datetime(2026, 11, day, tzinfo=SEOUL)


def change(since: int = 5, period: int = 7, segment: dict[str, str] | None = None) -> Finding:
    return Finding(
        metric="conversion",
        segment=segment or {},
        kind=FindingKind.CHANGE_POINT,
        period=at(period),
        value=0.18,
        expected=0.22,
        lower=0.2,
        upper=0.24,
        direction=Direction.DOWN,
        severity=Severity.WARNING,
        score=4.0,
        since=at(since),
    )


def event(name: str, start: int, end: int | None = None, **kw: object) -> EventSpec:
    stop = None if end is None else date(2026, 11, end)
    return EventSpec(name=name, start=date(2026, 11, start), end=stop, **kw)  # type: ignore[arg-type]


def test_events_overlapping_the_onset_come_closest_first() -> None:
    events = [
        event("too early", 1),
        event("sale", 2, 4, kind="campaign"),
        event("release", 5, kind="release"),
        event("too late", 9),
        event("other metric", 5, metrics=["nps"]),
    ]
    found = events_near(events, change(since=5), [])
    assert [e.name for e in found] == ["release", "sale"]
    assert found[0].start == at(5) and found[0].kind == "release"


def test_a_segment_event_needs_the_finding_or_a_top_cause_in_that_segment() -> None:
    web = event("checkout redesign", 5, segment={"channel": "web", "device": "desktop"})
    assert events_near([web], change(), []) == []
    assert events_near([web], change(), [{"device": "desktop"}])[0].name == "checkout redesign"
    assert events_near([web], change(), [{"device": "android"}]) == []
    assert events_near([web], change(segment={"channel": "web"}), [])[0].segment == web.segment


def test_events_table_rows_become_events_with_their_dimension_columns() -> None:
    rows = pd.DataFrame(
        {
            "name": ["Android 5.2", "Sale"],
            "kind": ["release", "campaign"],
            "start_date": [date(2026, 10, 11), date(2026, 9, 1)],
            "end_date": [None, date(2026, 9, 15)],
            "device": ["android", None],
            "effect": ["down", None],
        }
    )
    first, second = events_from_rows(rows)
    assert first == event(
        "Android 5.2", 11, kind="release", segment={"device": "android"}, effect="down"
    ).model_copy(update={"start": date(2026, 10, 11)})
    assert second.segment == {} and second.end == date(2026, 9, 15)


def test_related_metric_is_measured_in_the_cause_segment_over_the_same_windows() -> None:
    periods = pd.date_range("2026-10-01", "2026-11-07", freq="D", tz=SEOUL)
    rows = []
    for p in periods:
        for device in ("android", "desktop"):
            after = p >= pd.Timestamp("2026-11-05", tz=SEOUL) and device == "desktop"
            rows.append(
                {"period": p, "device": device, "num": 50.0 if after else 100.0, "den": 1000.0}
            )
    cube = pd.DataFrame(rows)
    before, after = related_change(
        cube, change(), {"device": "desktop"}, dimensions=["device"], additive=False, grain="day"
    )
    assert (before, after) == pytest.approx((0.1, 0.05))
    assert (
        related_change(
            cube, change(), {"region": "Busan"}, dimensions=["device"], additive=False, grain="day"
        )
        is None
    )


def test_a_weekly_change_looks_one_week_further_back_for_events() -> None:
    release = event("android release", 3, segment={"device": "android"})
    weekly = change(since=12, period=12)
    assert events_near([release], weekly, [{"device": "android"}], grain="day") == []
    found = events_near([release], weekly, [{"device": "android"}], grain="week")
    assert [e.name for e in found] == ["android release"]
