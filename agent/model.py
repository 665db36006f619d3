"""Frozen value objects shared by every stage (DESIGN §4, §5).

The JSON report is ``dataclasses.asdict`` of these, so the machine contract and the
code live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, TypeAlias

__all__ = [
    "Episode",
    "EpisodeStatus",
    "Explanation",
    "KnownEvent",
    "Note",
    "NoteValue",
    "Related",
    "RunResult",
    "Cause",
    "Direction",
    "Finding",
    "FindingKind",
    "Segment",
    "Severity",
    "Theme",
    "ThemeTerm",
    "Unit",
    "Verbatim",
    "Voice",
]

Segment = dict[str, str]
"""Dimension name -> value; ``{}`` is the whole population."""

Unit = Literal["percent", "number", "currency", "score"]
"""How a metric's values read (metrics.yaml ``unit:``)."""


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
    LATE_DATA = "late_data"
    """The period's data is missing or incomplete: nothing about the metric is judged."""
    RECOVERED = "recovered"
    """An alerted episode is over: the metric is back in its usual range."""
    WINDOW = "window"
    """Asked for (``cx-agent explain``): a segment over chosen dates against what came
    before; no detector judged it."""


class EpisodeStatus(StrEnum):
    PENDING = "pending"
    """Findings seen, but not yet for the policy's minimum number of periods: no alert."""
    NEW = "new"
    """The episode alerts for the first time in this period."""
    ONGOING = "ongoing"
    """Already alerted; this period updates it (no new alert)."""
    RECOVERED = "recovered"
    """Closed in this period after enough quiet periods."""


NoteValue: TypeAlias = "str | int | float | datetime | Note"


@dataclass(frozen=True)
class Note:
    """A sentence for the reader, as a message code and its values (``{"value": 0.312}``).

    Stages say *what* to tell; the report words it from its catalog in the reader's
    language, formatting each value for that language (numbers in the metric's unit,
    dates, nested notes). ``code`` is the catalog key.
    """

    code: str
    params: dict[str, NoteValue] = field(default_factory=dict)


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
    reason: Note | None = None
    """The detector's why, worded by the report (e.g. ``reason_limit_below``)."""
    p_value: float | None = None
    """Chance that a calm series shows evidence this strong (one-sided, after the
    detector's own look-elsewhere correction); None for rules such as thresholds."""


@dataclass(frozen=True)
class Episode:
    """One incident of a metric: successive findings merged into one alert.

    ``id`` names the incident for good (the store keeps it while the onset is re-dated);
    ``segment`` is the segment it was first seen in and ``segments`` every segment whose
    findings joined it (overlapping segments moving at the same time: the total,
    ``channel=web``, ``device=desktop``). ``since`` is the onset of the move, an attribute
    a later run may date earlier; ``first_seen`` the first period with a finding,
    ``last_seen`` the latest, ``periods`` how many periods had findings, ``severity`` the
    worst so far.
    """

    metric: str
    segment: Segment
    status: EpisodeStatus
    since: datetime
    last_seen: datetime
    periods: int
    severity: Severity
    direction: Direction
    id: str = ""
    segments: tuple[Segment, ...] = ()
    first_seen: datetime | None = None
    data_late: bool = False
    """A missing-data episode (kept apart from the metric's own)."""
    streak: int = 0
    """Judged periods in a row with findings, up to ``last_seen``."""

    @property
    def all_segments(self) -> tuple[Segment, ...]:
        """``segments``, or the one ``segment`` of an episode built without them."""
        return self.segments or (self.segment,)


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
    moved: float | None = None
    """For a segment checked and not named a cause (``Explanation.ruled_out``): how
    unlikely its own move before → after is by chance, the causes not taken out and its
    being the most moved of its dimension's values counted (its ``confidence`` is then
    about what remains once the causes are taken out). None for a cause."""
    overlaps: list[Segment] = field(default_factory=list)
    """For a segment checked and not named a cause: the causes that share customers with
    it, in their rank order."""

    @property
    def contribution(self) -> float:
        return self.rate_effect + self.mix_effect


@dataclass(frozen=True)
class Related:
    """Another metric of the same segment over the same windows as a finding's change."""

    metric: str
    title: str
    segment: Segment
    value_before: float
    value_after: float
    unit: Unit
    """How its values read: ``percent``, ``number``, ``currency`` or ``score``."""


@dataclass(frozen=True)
class KnownEvent:
    """A release, campaign or outage from metrics.yaml ``events:`` near a change's onset."""

    name: str
    kind: str
    start: datetime
    end: datetime
    segment: Segment
    effect: str | None
    """The direction the team expected the event to move the metric, if given."""


@dataclass(frozen=True)
class FactorMove:
    """One factor of a product metric (revenue = orders × AOV) across a finding's change.

    ``share`` is the factor's part of the change in log terms: the shares of all
    factors add up to 1, and the factor that moved most comes first.
    """

    metric: str
    title: str
    value_before: float
    value_after: float
    share: float
    unit: Unit


@dataclass(frozen=True)
class CustomerExport:
    """The customers behind one cause, written as a CSV next to the report."""

    segment: Segment
    path: str
    """Relative to the reports directory: ``<date>/<metric>-<segment>.csv``."""
    rows: int
    columns: list[str]


@dataclass(frozen=True)
class ThemeTerm:
    """A word or two-word phrase of a theme: comments mentioning it before and after the
    onset, and how surprising its rise is (a z-score)."""

    term: str
    before: int
    after: int
    z: float


@dataclass(frozen=True)
class Theme:
    """Terms that rose together in a segment's comments, named by the strongest.

    ``before``/``after`` count the comments mentioning any of its terms; ``significant``
    says whether its rise survives false-discovery control across every term tested.
    """

    label: str
    terms: list[ThemeTerm]
    before: int
    after: int
    z: float
    significant: bool


@dataclass(frozen=True)
class Verbatim:
    """One comment chosen for a theme, with personal data already masked."""

    theme: str
    text: str


@dataclass(frozen=True)
class Voice:
    """What a segment's customers said before and after a change's onset.

    ``comments_before``/``comments_after`` are the comments read in each window, at most
    ``cap`` each (the newest); ``total_before``/``total_after`` how many there were.
    """

    segment: Segment
    comments_before: int
    comments_after: int
    total_before: int
    total_after: int
    themes: list[Theme]
    verbatims: list[Verbatim]


@dataclass(frozen=True)
class Explanation:
    """A finding with the causes attribution found for it."""

    finding: Finding
    causes: list[Cause]
    explained_share: float
    """Share of the finding's change that ``causes`` account for together."""
    episode: Episode | None = None
    """The episode this finding belongs to (new alert, ongoing, recovered)."""
    checked: list[str] = field(default_factory=list)
    """Dimensions searched, alone and in combinations; best single-dimension one first."""
    ruled_out: list[Cause] = field(default_factory=list)
    """Per checked dimension, its strongest value that is not a cause. Its ``confidence``
    is how surprising what remains of its move is once the causes are taken out."""
    related: list[Related] = field(default_factory=list)
    """Other metrics in the top causes' segments, before and after (behavioural context)."""
    events: list[KnownEvent] = field(default_factory=list)
    """Known events (releases, campaigns, outages…) overlapping the change's onset."""
    factors: list[FactorMove] = field(default_factory=list)
    """For a metric declared as a product of others: how each factor moved, largest first."""
    exports: list[CustomerExport] = field(default_factory=list)
    """CSV files of the customers behind the top causes (``export_customers: true``)."""
    feedback_links: dict[str, str] = field(default_factory=dict)
    """Label (``true``/``false``/``expected``) → URL recording that verdict for the episode."""
    voice: list[Voice] = field(default_factory=list)
    """What the customers of the top causes' segments said (sources with ``text:``)."""


@dataclass(frozen=True)
class RunResult:
    """What one run of one metric for one period found."""

    metric: str
    title: str
    period: datetime
    value: float | None
    explanations: list[Explanation]
    notes: list[Note]
    """Data notes: holidays, folded values, unjudged periods, alerts still pending."""

    @property
    def severity(self) -> Severity | None:
        ranks = [e.finding.severity for e in self.explanations]
        return max(ranks, key=lambda s: s.rank) if ranks else None
