"""Episodes told back from the JSON reports on disk, for ``reports/index.html``.

Each finding of a report carries its ``episode`` as the run saw it (status, since,
last_seen, periods, worst severity). Walking one metric x segment's reports oldest
first, a report continues the open episode unless that episode recovered, its period
count started again, or the move began after the episode was last seen. Findings of
older reports without an ``episode`` count as one-period episodes of their own ``since``.
Missing-data findings form their own episodes, as they do when the run tracks them.
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from agent.model import EpisodeStatus, FindingKind, RunResult, Segment, Severity

__all__ = [
    "EpisodeHistory",
    "EpisodeMark",
    "Reported",
    "episode_histories",
    "mark_of",
    "previous_reports",
]

Key = tuple[str, tuple[tuple[str, str], ...], bool]
"""(metric, segment items, is a missing-data episode)."""


@dataclass(frozen=True)
class EpisodeMark:
    """One finding's episode as one report saw it; ``status``/``periods`` None when unknown.

    ``since`` is the change's onset as the run dated it; ``opened`` when the alert opened
    (its first period with a finding: the report's "alert open since").
    """

    status: str | None
    since: datetime
    last_seen: datetime
    periods: int | None
    severity: str
    opened: datetime


@dataclass(frozen=True)
class Reported:
    """A finding of one report, reduced to what grouping needs; ``report`` is its link and
    ``began`` when its change began (the finding's own onset)."""

    metric: str
    report: str
    period: datetime
    kind: str
    severity: str
    segment: Segment
    mark: EpisodeMark
    began: datetime


@dataclass
class EpisodeHistory:
    """One episode of a metric x segment and its findings, oldest report first."""

    key: Key
    findings: list[Reported] = field(default_factory=list)

    @property
    def first(self) -> Reported:
        return self.findings[0]

    @property
    def latest(self) -> Reported:
        return self.findings[-1]

    @property
    def since(self) -> datetime:
        return min(f.mark.since for f in self.findings)

    @property
    def began(self) -> datetime:
        """When the change began, as the latest report of a move (not its recovery) says."""
        moves = [f for f in self.findings if f.kind != FindingKind.RECOVERED]
        return moves[-1].began if moves else self.latest.mark.since

    @property
    def opened(self) -> datetime:
        """When the alert opened: the earliest its reports say."""
        return min(f.mark.opened for f in self.findings)

    @property
    def last_seen(self) -> datetime:
        return max(f.mark.last_seen for f in self.findings)

    @property
    def severity(self) -> str:
        levels = [f.severity for f in self.findings] + [f.mark.severity for f in self.findings]
        return max(levels, key=lambda s: Severity(s).rank)

    @property
    def reports(self) -> list[Reported]:
        """One finding per report (the first of each), oldest first."""
        seen: dict[str, Reported] = {}
        for f in self.findings:
            seen.setdefault(f.report, f)
        return list(seen.values())


def mark_of(finding: dict[str, Any]) -> EpisodeMark:
    """The finding's ``episode`` from the JSON, or a one-period episode when it has none."""
    ep = finding.get("episode")
    if not ep:
        period = datetime.fromisoformat(finding["period"])
        since = datetime.fromisoformat(finding["since"])
        return EpisodeMark(None, since, period, None, finding["severity"], since)
    since = datetime.fromisoformat(ep["since"])
    return EpisodeMark(
        status=ep["status"],
        since=since,
        last_seen=datetime.fromisoformat(ep["last_seen"]),
        periods=ep["periods"],
        severity=ep["severity"],
        opened=datetime.fromisoformat(ep["first_seen"]) if ep.get("first_seen") else since,
    )


def _continues(prev: EpisodeMark, mark: EpisodeMark) -> bool:
    if prev.status == EpisodeStatus.RECOVERED:
        return False
    if prev.periods is not None and mark.periods is not None:
        closing = mark.status == EpisodeStatus.RECOVERED
        if mark.periods < prev.periods or (mark.periods == prev.periods and not closing):
            return False  # the count started again: a new episode
    return mark.since <= prev.last_seen


def _key(f: Reported, open_: dict[Key, EpisodeHistory]) -> Key:
    """A recovered finding closes the missing-data episode of its segment if that one
    began when it says, else the metric's own episode."""
    seg = tuple(sorted(f.segment.items()))
    if f.kind == FindingKind.RECOVERED:
        late = open_.get((f.metric, seg, True))
        return (f.metric, seg, late is not None and late.since == f.mark.since)
    return (f.metric, seg, f.kind == FindingKind.LATE_DATA)


def episode_histories(findings: list[Reported]) -> list[EpisodeHistory]:
    """Group findings (any order) into episodes, each with its findings oldest first."""
    open_: dict[Key, EpisodeHistory] = {}
    episodes: list[EpisodeHistory] = []
    for f in sorted(findings, key=lambda f: f.period):
        key = _key(f, open_)
        current = open_.get(key)
        if current is not None and current.latest.report == f.report:
            current.findings.append(f)  # another finding of the same report
            continue
        if current is None or not _continues(current.latest.mark, f.mark):
            current = open_[key] = EpisodeHistory(key)
            episodes.append(current)
        current.findings.append(f)
    return episodes


def _earlier(reports_dir: Path, run: RunResult) -> list[tuple[datetime, str, list[dict[str, Any]]]]:
    """Earlier reports of ``run``'s metric on disk: (period, link from a report, findings),
    newest first. Unreadable files are left out (the index lists them)."""
    found = []
    for path in reports_dir.glob(f"*/{glob.escape(run.metric)}.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            period = datetime.fromisoformat(data["period"])
            findings = list(data["findings"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if period < run.period:
            link = quote(f"../{path.parent.name}/{path.with_suffix('.html').name}")
            found.append((period, link, findings))
    return sorted(found, key=lambda item: item[0], reverse=True)


def previous_reports(reports_dir: Path, run: RunResult) -> dict[int, tuple[datetime, str]]:
    """Per finding of ``run`` that continues an episode, the latest earlier report of that
    episode (same segment, same start): its period and its link from ``run``'s report."""
    wanted = {
        i: (e.finding.segment, e.episode.since)
        for i, e in enumerate(run.explanations)
        if e.episode is not None and e.episode.status != EpisodeStatus.NEW
    }
    if not wanted:
        return {}
    earlier = _earlier(reports_dir, run)
    previous = {}
    for i, (segment, since) in wanted.items():
        for period, link, findings in earlier:
            if any(_same_episode(f, segment, since) for f in findings):
                previous[i] = (period, link)
                break
    return previous


def _same_episode(finding: dict[str, Any], segment: Segment, since: datetime) -> bool:
    episode = finding.get("episode") or {}
    try:
        return finding["segment"] == segment and datetime.fromisoformat(episode["since"]) == since
    except (KeyError, TypeError, ValueError):
        return False
