"""Scoring a replay's alerts against planted incidents, for ``bench.power``.

Incidents are ``truth.json`` rows (``bench._power_gen``), alerts are
``cx-agent backfill --json`` rows. Rules:

* an alert *finds* an incident when it is on the incident's metric, moves in the
  incident's direction, and falls between its onset and ``until`` (its end plus a
  grace); the first such alert is the one scored;
* its delay is in periods after the day the incident became visible (0: that day);
* the segment an alert names is its own segment with its top cause's added (a watched
  segment's alert names the segment, its top cause the part of it that moved);
  *exact* when that is the planted segment, *overlapping* when they share a
  dimension=value pair; incidents of the total have no segment to name;
* an alert inside no incident window of its metric is false; clean days of a metric
  are its judged days outside every incident window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

__all__ = [
    "Outcome",
    "Tally",
    "clean_days",
    "false_alerts",
    "named_segment",
    "score",
]

Row = dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """How one planted incident fared."""

    incident: Row
    alert: Row | None
    """The first alert that found it, or None."""

    @property
    def found(self) -> bool:
        return self.alert is not None

    @property
    def delay(self) -> int | None:
        """Periods (days) from the day it became visible to its first alert; None if missed."""
        if self.alert is None:
            return None
        lag = date.fromisoformat(self.alert["date"]) - date.fromisoformat(self.incident["visible"])
        return lag.days

    def within(self, periods: int) -> bool:
        return self.delay is not None and self.delay <= periods

    @property
    def exact(self) -> bool | None:
        """Whether the alert names exactly the planted segment (None: total, or missed)."""
        if self.alert is None or not self.incident["segment"]:
            return None
        return bool(named_segment(self.alert) == self.incident["segment"])

    @property
    def overlapping(self) -> bool | None:
        if self.alert is None or not self.incident["segment"]:
            return None
        planted = set(self.incident["segment"].items())
        return bool(planted & set(named_segment(self.alert).items()))


@dataclass(frozen=True)
class Tally:
    """One warehouse's replay scored: every incident's outcome, the false alerts, and
    per metric the clean days they fell in."""

    outcomes: list[Outcome]
    false: list[Row]
    clean: dict[str, int]


def named_segment(alert: Row) -> dict[str, str]:
    """The segment an alert points the reader to: its own, with its top cause's added."""
    top = alert["causes"][0]["segment"] if alert["causes"] else {}
    return dict(alert["segment"]) | dict(top)


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _inside(alert: Row, incident: Row) -> bool:
    day = _day(alert["date"])
    return alert["metric"] == incident["metric"] and _day(incident["onset"]) <= day <= _day(
        incident["until"]
    )


def _first_match(incident: Row, alerts: list[Row]) -> Row | None:
    found = [a for a in alerts if _inside(a, incident) and a["direction"] == incident["direction"]]
    return min(found, key=lambda a: a["date"], default=None)


def false_alerts(incidents: list[Row], alerts: list[Row]) -> list[Row]:
    """The alerts inside no incident window of their metric."""
    return [a for a in alerts if not any(_inside(a, i) for i in incidents)]


def clean_days(incidents: list[Row], metric: str, start: date, end: date) -> int:
    """Days from ``start`` to ``end`` outside every incident window of ``metric``."""
    busy: set[date] = set()
    for i in incidents:
        if i["metric"] == metric:
            day = _day(i["onset"])
            while day <= _day(i["until"]):
                busy.add(day)
                day += timedelta(days=1)
    total = (end - start).days + 1
    return total - sum(1 for d in busy if start <= d <= end)


def score(truth: Row, alerts: list[Row], metrics: Iterable[str]) -> Tally:
    """Score one warehouse's ``alerts`` against its ``truth.json``."""
    incidents = truth["incidents"]
    start, end = _day(truth["start"]), _day(truth["end"])
    return Tally(
        outcomes=[Outcome(i, _first_match(i, alerts)) for i in incidents],
        false=false_alerts(incidents, alerts),
        clean={m: clean_days(incidents, m, start, end) for m in metrics},
    )
