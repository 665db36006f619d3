"""bench.power's scorer: which alert finds which planted incident, and what is false."""

from __future__ import annotations

from datetime import date
from typing import Any

from bench._power_score import clean_days, named_segment, score

CITY = {"city": "Busan"}
CHECKOUT = {"platform": "ios", "city": "Busan"}


def _incident(**over: Any) -> dict[str, Any]:
    row = {
        "cls": "segment_drop",
        "metric": "conversion",
        "segment": CHECKOUT,
        "onset": "2026-03-10",
        "end": "2026-03-14",
        "visible": "2026-03-10",
        "until": "2026-03-21",
        "direction": "down",
    }
    return row | over


def _alert(day: str, **over: Any) -> dict[str, Any]:
    row = {
        "date": day,
        "metric": "conversion",
        "segment": {},
        "direction": "down",
        "kind": "anomaly",
        "severity": "warning",
        "causes": [{"segment": CHECKOUT, "share": 0.9, "confidence": 0.99}],
    }
    return row | over


def _truth(*incidents: dict[str, Any]) -> dict[str, Any]:
    return {"start": "2026-03-01", "end": "2026-03-31", "incidents": list(incidents)}


def test_an_alert_inside_the_window_finds_the_incident_and_the_first_one_counts() -> None:
    tally = score(_truth(_incident()), [_alert("2026-03-13"), _alert("2026-03-12")], ["conversion"])
    [outcome] = tally.outcomes
    assert outcome.found and outcome.alert is not None and outcome.alert["date"] == "2026-03-12"
    assert outcome.delay == 2 and outcome.within(3) and not outcome.within(1)
    assert tally.false == []


def test_delay_counts_from_the_day_the_incident_becomes_visible() -> None:
    churn = _incident(onset="2026-03-01", visible="2026-03-15", until="2026-03-28", segment={})
    [outcome] = score(_truth(churn), [_alert("2026-03-16")], ["conversion"]).outcomes
    assert outcome.delay == 1  # 15 days after onset, 1 after it could show


def test_alerts_outside_every_window_are_false_and_clean_days_exclude_windows() -> None:
    alerts = [_alert("2026-03-05"), _alert("2026-03-25"), _alert("2026-03-25", metric="nps")]
    tally = score(_truth(_incident()), alerts, ["conversion", "nps"])
    assert [(a["date"], a["metric"]) for a in tally.false] == [
        ("2026-03-05", "conversion"),
        ("2026-03-25", "conversion"),
        ("2026-03-25", "nps"),
    ]
    assert not tally.outcomes[0].found
    assert tally.clean == {"conversion": 31 - 12, "nps": 31}  # the window is Mar 10-21


def test_an_alert_the_other_way_or_on_another_metric_does_not_find_it() -> None:
    alerts = [_alert("2026-03-11", direction="up"), _alert("2026-03-11", metric="nps")]
    tally = score(_truth(_incident()), alerts, ["conversion", "nps"])
    assert not tally.outcomes[0].found
    assert [a["metric"] for a in tally.false] == ["nps"]  # the "up" one sits in the window


def test_a_spike_that_pages_is_found_not_false() -> None:
    spike = _incident(cls="spike", segment={}, end="2026-03-10", until="2026-03-12")
    tally = score(_truth(spike), [_alert("2026-03-11")], ["conversion"])
    assert tally.outcomes[0].found and tally.false == []


def test_the_named_segment_joins_a_watched_segment_and_its_top_cause() -> None:
    watched = _alert("2026-03-10", segment=CITY, causes=[{"segment": {"platform": "ios"}}])
    assert named_segment(watched) == CHECKOUT
    [exact] = score(_truth(_incident()), [watched], ["conversion"]).outcomes
    assert exact.exact and exact.overlapping
    other = _alert("2026-03-10", segment=CITY, causes=[{"segment": {"grade": "vip"}}])
    [near] = score(_truth(_incident()), [other], ["conversion"]).outcomes
    assert near.exact is False and near.overlapping is True
    wrong = _alert("2026-03-10", causes=[{"segment": {"city": "Seoul"}}])
    [miss] = score(_truth(_incident()), [wrong], ["conversion"]).outcomes
    assert miss.exact is False and miss.overlapping is False


def test_incidents_of_the_total_have_no_segment_to_name() -> None:
    [outcome] = score(
        _truth(_incident(segment={})), [_alert("2026-03-10")], ["conversion"]
    ).outcomes
    assert outcome.found and outcome.exact is None and outcome.overlapping is None


def test_clean_days_merge_overlapping_windows() -> None:
    a = _incident(onset="2026-03-01", until="2026-03-10")
    b = _incident(onset="2026-03-08", until="2026-03-12")
    days = clean_days([a, b], "conversion", date(2026, 3, 1), date(2026, 3, 31))
    assert days == 31 - 12
