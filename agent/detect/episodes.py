"""Alert policy: successive findings of one metric become one episode per incident.

A CX channel wants one alert when something starts to go wrong, updates while it
lasts, and one "recovered" message when it is over — not one alert a day, nor one per
segment the incident shows in. The tracker folds the findings of successive periods
into episodes:

* a finding opens an episode (``pending``) unless it joins an open one: the same
  segment, or an overlapping one (the total, ``channel=web`` and ``device=desktop`` can
  share customers; ``channel=web`` and ``channel=app`` cannot) moving the same way with
  an onset within ``onset_window`` of the episode's;
* an episode alerts (``new``) once findings have been seen for ``min_periods``
  consecutive judged periods and one of them is at least a warning (an ``info``
  finding is shown in the report, never sent);
* while findings go on, an alerted episode is ``ongoing`` (updated, not re-sent);
* after ``recover_after`` consecutive judged periods without a finding, with every
  segment of the episode back in its band, an alerted episode is ``recovered`` and
  closed; a pending one is dropped silently;
* periods that are not judged (holidays, late data) neither extend nor close anything.

Missing-data findings form their own episodes, apart from the metric's. The tracker
is pure: replaying the same periods gives the same episodes, which is how a run
rebuilds the state of a period from the weeks before it (``agent.pipeline.metric_run``) and how
``cx-agent backfill`` replays history. The ids it gives are provisional; the store
keeps an incident's id when a later run dates its onset earlier (``agent.store.identity``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pandas as pd
from pandas import DateOffset
from pydantic import BaseModel, ConfigDict, Field

from agent.model import Episode, EpisodeStatus, Finding, FindingKind, Note, Segment, Severity

__all__ = ["AlertPolicy", "EpisodeTracker", "overlap", "provisional_id", "recovered_finding"]


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


Key = tuple[tuple[str, str], ...]
"""A segment's items, sorted: how findings of one segment are recognised."""


@dataclass
class _Open:
    episode: Episode
    streak: int
    quiet: int
    alerted: bool
    late: bool
    first: dict[Key, Finding]
    """Each segment's first finding: its band tells when that segment is back to normal."""

    @property
    def primary(self) -> Finding:
        return self.first[_key(self.episode.segment)]


class EpisodeTracker:
    """Folds each period's findings into episodes; call ``step`` once per period, in order."""

    def __init__(
        self,
        policy: AlertPolicy,
        *,
        warm: bool = True,
        onset_window: timedelta | DateOffset = timedelta(days=7),
    ) -> None:
        """``warm``: findings of at least a warning in the first period stepped belong to
        episodes that began (and alerted) before it, so replaying a window never re-alerts
        an old story; an ``info`` one there has not alerted, and still may.

        ``onset_window``: findings of overlapping segments (the total, ``channel=web``,
        ``device=desktop``) whose onsets lie this close are one incident, one alert."""
        self.policy = policy
        self.onset_window = onset_window
        self._open: list[_Open] = []
        self._first = warm

    def step(
        self,
        period: datetime,
        findings: list[Finding] | None,
        normal: Callable[[Finding], bool] = lambda _: True,
    ) -> tuple[list[Episode], list[tuple[Episode, Finding]]]:
        """Advance to ``period``; ``findings`` is None when the period is not judged.

        ``normal(first)`` tells whether the series of a segment whose first finding in
        the episode was ``first`` is back inside that finding's band in this period: a
        period without findings counts towards recovery only when every segment of the
        episode is (a level shift that the detectors have stopped calling news is still
        not a recovery). Returns the episode of each finding (in finding order) and, for
        each episode that recovered in this period, the episode with its first finding.
        """
        if findings is None:
            return [], []
        warm, self._first = self._first, False
        groups: dict[int, tuple[_Open, list[Finding]]] = {}
        owner = []
        for finding in sorted(findings, key=_generality):
            state = self._owner(finding, period, warm)
            groups.setdefault(id(state), (state, []))[1].append(finding)
            owner.append((finding, state))
        for state, group in groups.values():
            self._extend(state, group, period)
        touched = {id(state) for state, _ in groups.values()}
        data_late = any(state.late for state, _ in groups.values())
        recovered = self._quiet(touched, normal, data_late)
        episode_of = {id(f): state.episode for f, state in owner}
        return [episode_of[id(f)] for f in findings], recovered

    def _owner(self, finding: Finding, period: datetime, warm: bool) -> _Open:
        """The open episode ``finding`` belongs to, opened here when there is none."""
        late = finding.kind == FindingKind.LATE_DATA
        key = _key(finding.segment)
        mine = [s for s in self._open if s.late == late]
        for state in mine:
            if key in state.first:
                return state
        for state in mine:
            if not late and self._joins(state, finding):
                state.first[key] = finding
                state.episode = replace(
                    state.episode, segments=(*state.episode.segments, dict(finding.segment))
                )
                return state
        alerted = warm and finding.severity.rank >= Severity.WARNING.rank
        state = _Open(_start(finding, period), 0, 0, alerted, late, {key: finding})
        self._open.append(state)
        return state

    def _joins(self, state: _Open, finding: Finding) -> bool:
        """Whether ``finding`` is news of the same incident as the open episode ``state``:
        same direction, a segment overlapping one of the episode's, a nearby onset."""
        ep = state.episode
        near = abs(finding.since - ep.since) <= _span(self.onset_window, ep.since)
        overlaps = any(overlap(finding.segment, seg) for seg in ep.segments)
        return finding.direction == ep.direction and near and overlaps

    def _extend(self, state: _Open, group: list[Finding], period: datetime) -> None:
        worst = max(group, key=lambda f: f.severity.rank)
        state.streak, state.quiet = state.streak + 1, 0
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
            streak=state.streak,
            severity=worst_yet,
            direction=worst.direction,
        )

    def _quiet(
        self, touched: set[int], normal: Callable[[Finding], bool], data_late: bool
    ) -> list[tuple[Episode, Finding]]:
        """Count a quiet period for the open episodes without findings; close the recovered.

        While data is late, the metric's own episodes are left as they are."""
        recovered = []
        for state in [s for s in self._open if id(s) not in touched and (s.late or not data_late)]:
            state.streak = 0
            back = state.late or all(normal(first) for first in state.first.values())
            state.quiet = state.quiet + 1 if back else 0
            if state.quiet < self.policy.recover_after:
                continue
            self._open.remove(state)
            if state.alerted:
                closed = replace(state.episode, status=EpisodeStatus.RECOVERED)
                recovered.append((closed, state.primary))
        return recovered


def overlap(a: Segment, b: Segment) -> bool:
    """Whether two segments can share customers: no dimension has two different values."""
    return all(b[dim] == value for dim, value in a.items() if dim in b)


def _span(window: timedelta | DateOffset, at: datetime) -> timedelta:
    return (pd.Timestamp(at) + window) - pd.Timestamp(at)


def _generality(finding: Finding) -> int:
    """The total first, then single dimensions…: an incident is named by its widest segment."""
    return len(finding.segment)


def _status(newly: bool, alerted: bool) -> EpisodeStatus:
    if newly:
        return EpisodeStatus.NEW
    return EpisodeStatus.ONGOING if alerted else EpisodeStatus.PENDING


def _key(segment: Segment) -> Key:
    return tuple(sorted(segment.items()))


def _start(finding: Finding, period: datetime) -> Episode:
    segment = dict(finding.segment)
    return Episode(
        metric=finding.metric,
        segment=segment,
        status=EpisodeStatus.PENDING,
        since=finding.since,
        last_seen=period,
        periods=0,
        severity=Severity.INFO,
        direction=finding.direction,
        id=provisional_id(finding, period),
        segments=(segment,),
        first_seen=period,
        data_late=finding.kind == FindingKind.LATE_DATA,
    )


def provisional_id(finding: Finding, period: datetime) -> str:
    """An episode's name within one replay: the store gives it its lasting id."""
    late = "|late" if finding.kind == FindingKind.LATE_DATA else ""
    items = "&".join(f"{k}={v}" for k, v in _key(finding.segment))
    return f"{finding.metric}|{items}|{period.replace(tzinfo=None).isoformat()}{late}"


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
