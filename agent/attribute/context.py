"""Behavioural context of a change: what else moved in its segments, and what happened then.

When conversion falls for android in Busan, the CX manager's next questions are
"did visits or support contacts move there too?" and "did we ship or launch
something then?". ``related_change`` measures another metric in a cause's segment
over the same before/after windows as the change; ``events_near`` picks the known
events from metrics.yaml ``events:`` whose dates touch the onset.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.attribute.baseline import compare_cubes
from agent.model import Finding, KnownEvent, Segment
from agent.periods import step

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_SLACK",
    "EventSpec",
    "EventTable",
    "events_from_rows",
    "events_near",
    "related_change",
]

EVENT_SLACK = timedelta(days=3)
"""An event this close to a change's onset (before or after) may be its cause."""


class EventSpec(BaseModel):
    """One entry of metrics.yaml ``events:``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    start: date
    end: date | None = None
    kind: Literal["release", "campaign", "promotion", "outage", "policy", "other"] = "other"
    segment: dict[str, str] = Field(default_factory=dict)
    metrics: list[str] = Field(default_factory=list)
    """The metrics it may move; empty: any."""
    effect: Literal["up", "down"] | None = None
    """The expected effect on those metrics, if the team knows it."""

    @model_validator(mode="after")
    def _ordered(self) -> EventSpec:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"event ends ({self.end}) before it starts ({self.start})")
        return self


class EventTable(BaseModel):
    """metrics.yaml ``events: {table: …}``: the events live in a warehouse table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str


EVENT_COLUMNS = ("name", "kind", "start_date", "end_date", "metric", "effect")
"""Columns an events table may have; any other non-null column is a segment dimension."""


def events_from_rows(rows: pd.DataFrame) -> list[EventSpec]:
    """Events from the rows of an events table (``name`` and ``start_date`` required)."""
    events = []
    for row in rows.to_dict("records"):
        present = {k: v for k, v in row.items() if v is not None and not pd.isna(v)}
        segment = {k: str(v) for k, v in present.items() if k not in EVENT_COLUMNS}
        metric = present.get("metric")
        events.append(
            EventSpec(
                name=str(present["name"]),
                kind=present.get("kind", "other"),
                start=pd.Timestamp(present["start_date"]).date(),
                end=pd.Timestamp(present["end_date"]).date() if "end_date" in present else None,
                segment=segment,
                metrics=[str(metric)] if metric else [],
                effect=present.get("effect"),
            )
        )
    return events


def events_near(
    events: list[EventSpec], finding: Finding, segments: list[Segment], grain: str = "day"
) -> list[KnownEvent]:
    """Events for this metric that overlap the onset (``since`` ± EVENT_SLACK) and, when
    they concern a segment, that agrees with the finding's or one of ``segments`` (its
    top causes), closest to the onset first. For weekly or monthly metrics the onset is
    only known to a period, so the slack grows by one period before it."""
    tz = finding.period.tzinfo
    widen = step(grain) if grain != "day" else pd.DateOffset(days=0)
    first, last = finding.since - widen - EVENT_SLACK, finding.since + EVENT_SLACK
    found = []
    for event in events:
        start = datetime.combine(event.start, time(), tz)
        end = datetime.combine(event.end or event.start, time(), tz)
        if event.metrics and finding.metric not in event.metrics:
            continue
        if end < first or start > last:
            continue
        if event.segment and not any(
            _agree(event.segment, s) for s in [finding.segment, *segments]
        ):
            continue
        found.append(KnownEvent(event.name, event.kind, start, end, event.segment, event.effect))
    return sorted(found, key=lambda e: abs(e.start - finding.since))


def _agree(a: Segment, b: Segment) -> bool:
    """The segments share a dimension and no dimension has different values in them."""
    shared = set(a) & set(b)
    return bool(shared) and all(a[dim] == b[dim] for dim in shared)


def related_change(
    cube: pd.DataFrame,
    finding: Finding,
    segment: Segment,
    *,
    dimensions: list[str],
    additive: bool,
    grain: str,
    periods: pd.Series | None = None,
) -> tuple[float, float] | None:
    """(before, after) value of another metric's ``cube`` inside ``segment``, over the
    windows the finding's change is measured on; None when it has no data there.

    ``cube`` may hold only the rows inside ``segment`` when ``periods`` gives the
    periods of the whole cube, the windows being made of those."""
    if not set(segment) <= set(dimensions):
        return None
    whole = replace(finding, segment={})
    actual, expected = compare_cubes(cube, whole, dimensions, grain=grain, periods=periods)
    values = []
    for side in (expected, actual):
        rows = side
        for dim, val in segment.items():
            rows = rows[rows[dim].astype(str) == val]
        num, den = float(rows["num"].sum()), float(rows["den"].sum())
        if den <= 0:
            return None
        values.append(num if additive else num / den)
    return values[0], values[1]
