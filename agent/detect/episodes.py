"""Alert policy: successive findings of one metric x segment become one episode.

A CX channel wants one alert when something starts to go wrong, updates while it
lasts, and one "recovered" message when it is over — not one alert a day. The
tracker folds the findings of successive periods into episodes:

* a finding opens an episode (``pending``); it alerts (``new``) once findings have
  been seen for ``min_periods`` consecutive judged periods and one of them is at
  least a warning (an ``info`` finding is shown in the report, never sent);
* while findings go on, an alerted episode is ``ongoing`` (updated, not re-sent);
* after ``recover_after`` consecutive judged periods without a finding an alerted
  episode is ``recovered`` and closed; a pending one is dropped silently;
* periods that are not judged (holidays, late data) neither extend nor close anything.

Missing-data findings form their own episodes, apart from the metric's. The tracker
is pure: replaying the same periods gives the same episodes, which is how a run
rebuilds the state of the last weeks and how ``cx-agent backfill`` replays history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from agent.model import Episode, EpisodeStatus, Finding, FindingKind, Note, Severity

__all__ = ["AlertPolicy", "EpisodeTracker", "recovered_finding"]


class AlertPolicy(BaseModel):
    """`alert:` of a metric in metrics.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_periods: int = Field(1, ge=1, description="Consecutive periods with findings to alert.")
    recover_after: int = Field(3, ge=1, description="Quiet periods that close an episode.")
    min_volume: float = Field(
        0.0,
        ge=0,
        description="Periods (and watched segments) with a smaller denominator are not judged.",
    )
    fdr: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="False-discovery rate across watched segments; default: the "
        "single-series false-alarm rate of the anomaly sensitivity.",
    )


Key = tuple[tuple[tuple[str, str], ...], bool]
"""(segment items, is a missing-data episode)."""


@dataclass
class _Open:
    episode: Episode
    streak: int
    quiet: int
    alerted: bool
    first: Finding
    last: Finding


class EpisodeTracker:
    """Folds each period's findings into episodes; call ``step`` once per period, in order."""

    def __init__(self, policy: AlertPolicy, *, warm: bool = True) -> None:
        """``warm``: findings in the first period stepped belong to episodes that began
        (and alerted) before it, so replaying a window never re-alerts an old story."""
        self.policy = policy
        self._open: dict[Key, _Open] = {}
        self._first = warm

    def step(
        self,
        period: datetime,
        findings: list[Finding] | None,
        normal: Callable[[Finding], bool] = lambda _: True,
    ) -> tuple[list[Episode], list[tuple[Episode, Finding]]]:
        """Advance to ``period``; ``findings`` is None when the period is not judged.

        ``normal(first)`` tells whether the series of an episode whose first finding
        was ``first`` is back inside that finding's band in this period: a period
        without findings counts towards recovery only then (a level shift that the
        detectors have stopped calling news is still not a recovery). Returns the
        episode of each finding (in finding order) and, for each episode that
        recovered in this period, the episode with its first finding.
        """
        if findings is None:
            return [], []
        warm, self._first = self._first, False
        by_key: dict[Key, list[Finding]] = {}
        for finding in findings:
            by_key.setdefault(_key(finding), []).append(finding)
        touched = {key: self._extend(key, group, period, warm) for key, group in by_key.items()}
        data_late = any(late for _, late in by_key)
        recovered = self._quiet(set(by_key), normal, data_late)
        return [touched[_key(f)] for f in findings], recovered

    def _extend(self, key: Key, group: list[Finding], period: datetime, warm: bool) -> Episode:
        worst = max(group, key=lambda f: f.severity.rank)
        state = self._open.get(key)
        if state is None:
            state = _Open(_start(worst, period), 0, 0, alerted=warm, first=worst, last=worst)
            self._open[key] = state
        state.streak, state.quiet, state.last = state.streak + 1, 0, worst
        ep = state.episode
        worst_yet = max(ep.severity, worst.severity, key=lambda s: s.rank)
        newly = (
            not state.alerted
            and state.streak >= self.policy.min_periods
            and worst_yet.rank >= Severity.WARNING.rank
        )
        state.alerted |= newly
        state.episode = replace(
            ep,
            status=_status(newly, state.alerted),
            since=min(ep.since, *(f.since for f in group)),
            last_seen=period,
            periods=ep.periods + 1,
            severity=worst_yet,
            direction=worst.direction,
        )
        return state.episode

    def _quiet(
        self, seen: set[Key], normal: Callable[[Finding], bool], data_late: bool
    ) -> list[tuple[Episode, Finding]]:
        """Count a quiet period for the open episodes without findings; close the recovered.

        While data is late, the metric's own episodes are left as they are."""
        recovered = []
        for key in [k for k in self._open if k not in seen and (k[1] or not data_late)]:
            state = self._open[key]
            state.streak = 0
            state.quiet = state.quiet + 1 if key[1] or normal(state.first) else 0
            if state.quiet < self.policy.recover_after:
                continue
            del self._open[key]
            if state.alerted:
                closed = replace(state.episode, status=EpisodeStatus.RECOVERED)
                recovered.append((closed, state.first))
        return recovered


def _status(newly: bool, alerted: bool) -> EpisodeStatus:
    if newly:
        return EpisodeStatus.NEW
    return EpisodeStatus.ONGOING if alerted else EpisodeStatus.PENDING


def _key(finding: Finding) -> Key:
    return tuple(sorted(finding.segment.items())), finding.kind == FindingKind.LATE_DATA


def _start(finding: Finding, period: datetime) -> Episode:
    return Episode(
        metric=finding.metric,
        segment=dict(finding.segment),
        status=EpisodeStatus.PENDING,
        since=finding.since,
        last_seen=period,
        periods=0,
        severity=Severity.INFO,
        direction=finding.direction,
    )


def recovered_finding(episode: Episode, first: Finding, period: datetime, value: float) -> Finding:
    """The INFO finding that closes ``episode`` in ``period``, where the metric is ``value``;
    ``first`` (the episode's first finding) gives the baseline it is back to."""
    if first.kind == FindingKind.LATE_DATA:
        reason = Note("reason_recovered_late")
    else:
        reason = Note(
            "reason_recovered",
            {"periods": episode.periods, "severity": str(episode.severity)},
        )
    return Finding(
        metric=episode.metric,
        segment=dict(episode.segment),
        kind=FindingKind.RECOVERED,
        period=period,
        value=value,
        expected=first.expected,
        lower=first.lower,
        upper=first.upper,
        direction=episode.direction,
        severity=Severity.INFO,
        score=0.0,
        since=episode.since,
        reason=reason,
    )
