"""The Detector extension point."""

from __future__ import annotations

from typing import ClassVar, Literal, Protocol

import pandas as pd
from pydantic import BaseModel

from agent.cube import MetricSeries
from agent.model import Direction, Finding, FindingKind

__all__ = ["AlertOn", "Detector"]

AlertOn = Literal["bad", "both"]


class Detector(Protocol):
    """Judges the last period of a series. Pure: no SQL, no clock, no I/O.

    ``good`` is the direction that is good news; with ``alert_on="bad"`` a detector
    reports only moves in the other direction.
    """

    kind: ClassVar[str]
    """Its key under ``detect:`` in metrics.yaml."""
    spec_type: ClassVar[type[BaseModel]]
    """Its options (the pydantic model of that key)."""
    finding_kinds: ClassVar[tuple[FindingKind, ...]]
    """The kinds of the findings it gives (each named ``kind_<kind>`` in the messages)."""
    tunable: ClassVar[tuple[str, ...]]
    """Options that false-alarm feedback may change (``agent.feedback.tune``)."""
    on_segments: ClassVar[bool]
    """Whether its options also judge the watched segments (``watch_segments: true``)."""

    @classmethod
    def band_z(cls, sensitivity: str) -> float | None:
        """Half-width in noise sigmas of the band its findings' ``lower``..``upper`` span
        at ``sensitivity`` (None: a rule's limits, not a band)."""
        ...

    def __init__(self, spec: BaseModel, *, good: Direction, alert_on: AlertOn = "bad") -> None: ...

    def detect(self, series: MetricSeries) -> list[Finding]: ...

    def detect_periods(
        self, series: MetricSeries, periods: list[pd.Timestamp]
    ) -> dict[pd.Timestamp, list[Finding]]:
        """``detect(series.upto(p))`` for each of ``periods`` (which must be in the
        series); a detector may share work between them but must give the same result."""
        ...
