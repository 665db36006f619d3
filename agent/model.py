"""Frozen value objects shared by every stage (DESIGN §4, §5).

The JSON report is ``dataclasses.asdict`` of these, so the machine contract and the
code live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "Explanation",
    "RunResult",
    "Cause",
    "Direction",
    "Finding",
    "FindingKind",
    "Segment",
    "Severity",
]

Segment = dict[str, str]
"""Dimension name -> value; ``{}`` is the whole population."""


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return ("info", "warning", "critical").index(self.value)


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"


class FindingKind(StrEnum):
    THRESHOLD = "threshold"
    ANOMALY = "anomaly"
    CHANGE_POINT = "change_point"


@dataclass(frozen=True)
class Finding:
    """Something a detector judged worth telling about one period of one series.

    ``expected``/``lower``/``upper`` are the baseline and its band (for a change point:
    the level before the change); ``since`` is the first period of the move.
    """

    metric: str
    segment: Segment
    kind: FindingKind
    period: datetime
    value: float
    expected: float
    lower: float
    upper: float
    direction: Direction
    severity: Severity
    score: float
    since: datetime
    reason: str = ""


@dataclass(frozen=True)
class Cause:
    """A segment that explains part of a finding's change.

    ``share`` is the fraction of the total change this segment accounts for (it can
    exceed 1 when other segments moved the other way). ``rate_effect`` + ``mix_effect``
    is the segment's contribution in metric units; for additive metrics ``mix_effect``
    is 0. ``confidence`` is in [0, 1]: how unlikely the segment's move is by chance.
    """

    segment: Segment
    share: float
    value_before: float
    value_after: float
    size_before: float
    size_after: float
    rate_effect: float
    mix_effect: float
    confidence: float

    @property
    def contribution(self) -> float:
        return self.rate_effect + self.mix_effect


@dataclass(frozen=True)
class Explanation:
    """A finding with the causes attribution found for it."""

    finding: Finding
    causes: list[Cause]
    explained_share: float
    """Share of the finding's change that ``causes`` account for together."""


@dataclass(frozen=True)
class RunResult:
    """What one run of one metric for one period found."""

    metric: str
    title: str
    period: datetime
    value: float | None
    explanations: list[Explanation]
    notes: list[str]

    @property
    def severity(self) -> Severity | None:
        ranks = [e.finding.severity for e in self.explanations]
        return max(ranks, key=lambda s: s.rank) if ranks else None
