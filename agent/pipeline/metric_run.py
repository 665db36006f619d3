"""One metric's cube, fetched once, judged period after period with its episode state.

What a period's run says is a function of the data and the period alone, never of the
range a run asked for, so ``backfill`` from any start, a daily run on an empty store and
one on a warm store agree on every day they share:

* **findings**: a period is judged on the series cut at a fixed calendar point before
  it (``periods.chunk_start`` less the metric's history), whatever the run's range;
* **like periods**: a period whose look-back or churn window holds a public holiday is
  judged only against periods whose windows held one too, and the others only against
  each other (``periods.holiday_windows``);
* **episodes**: whether a finding is a new alert, an update or a recovery is decided by
  replaying the ``EPISODE_WINDOW`` periods before it (warnings in the first of them
  count as already alerted), for each period anew, without any stored state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property, partial

import pandas as pd

from agent.attribute import attribute
from agent.attribute.baseline import compare_cubes
from agent.config import Config, MetricSpec
from agent.cube import OTHER, MetricSeries, series_of
from agent.detect import detect_periods
from agent.detect.bands import seasonal_band
from agent.detect.episodes import EpisodeTracker, recovered_finding
from agent.detect.freshness import late_data
from agent.detect.segments import Cells
from agent.model import (
    Cause,
    Episode,
    EpisodeStatus,
    Explanation,
    Finding,
    FindingKind,
    KnownEvent,
    Note,
    NoteValue,
    Related,
    RunResult,
    Segment,
    Severity,
)
from agent.periods import (
    bucket_start,
    chunk_end,
    chunk_start,
    evaluated_period,
    grid,
    holiday_notes,
    judged_range,
    localize,
    localize_periods,
    period_end,
    step,
    subdaily,
    unjudged_reasons,
)
from agent.pipeline.detectors import detectors, segment_sensitivity
from agent.pipeline.fetch import fetch_cube
from agent.pipeline.watched import watched_cells, watched_findings
from agent.pipeline.windows import judged_only, like_notes, like_periods, series_start
from agent.sources.base import Source, TableRef
from agent.store import Store
from agent.store.identity import identify

__all__ = [
    "EPISODE_WINDOW",
    "HISTORY_SHOWN",
    "Context",
    "MetricJob",
    "PeriodResult",
    "identified",
    "no_context",
]

HISTORY_SHOWN = 90
"""Periods of history drawn in a report's chart."""
EPISODE_WINDOW = {"hour": 72, "day": 35, "week": 10, "month": 6}
"""Periods replayed before a judged one to rebuild its episode state."""
ONSET_WINDOW = {"hour": 6, "day": 7, "week": 2, "month": 1}
"""Periods apart that the onsets of one incident's findings in overlapping segments may lie."""
Context = Callable[[Finding, list[Cause]], tuple[list[Related], list[KnownEvent]]]
"""Behavioural context of a finding given its causes: related metrics, known events."""


def no_context(finding: Finding, causes: list[Cause]) -> tuple[list[Related], list[KnownEvent]]:
    return [], []


@dataclass(frozen=True)
class PeriodResult:
    """What one period of a replay found, with what the report of it needs."""

    run: RunResult
    alerts: list[Episode]
    """Episodes that alert for the first time in this period."""


def identified(result: PeriodResult, store: Store) -> PeriodResult:
    """``result`` with each episode under the id the store knows its incident by (see
    ``agent.store.identity``): a replay names episodes only provisionally."""
    found = [e.episode for e in result.run.explanations if e.episode is not None]
    ids = identify(store, result.run.metric, found)

    def named(ep: Episode) -> Episode:
        return replace(ep, id=ids.get(ep.id, ep.id))

    explanations = [
        replace(e, episode=named(e.episode)) if e.episode is not None else e
        for e in result.run.explanations
    ]
    run = replace(result.run, explanations=explanations)
    return PeriodResult(run, [named(ep) for ep in result.alerts])


@dataclass(frozen=True)
class MetricJob:
    """One metric's cube (one warehouse query) and everything derived from it."""

    config: Config
    name: str
    cube: pd.DataFrame
    series: MetricSeries
    notes: tuple[Note, ...]
    data_end: pd.Timestamp | None
    segments: Cells | None = None
    """The watched segments (``watch_segments: true``)."""
    whole_from: pd.Timestamp | None = None
    """The first period the start of the data leaves whole, when it cuts earlier ones short
    (they are not in the cube, and are not judged rather than reported missing)."""
    holiday_window: pd.Series | None = None
    """Per period, whether its look-back or churn window holds a public holiday (None:
    the metric has no such window); those are judged only against each other."""
    unjudged: pd.Series | None = None
    """Per period, why it is not judged (``periods.unjudged_reasons``, or ``volume``:
    below ``min_volume``); ``""`` when it is."""
    _cache: dict[pd.Timestamp, list[Finding] | None] = field(default_factory=dict, repr=False)
    _values: dict[tuple[tuple[str, str], ...], pd.Series] = field(default_factory=dict, repr=False)

    @property
    def spec(self) -> MetricSpec:
        return self.config.metrics[self.name]

    @classmethod
    def fetch(
        cls,
        config: Config,
        name: str,
        source: Source,
        first: date,
        last: date,
        store: Store | None = None,
    ) -> MetricJob:
        """Query the warehouse once for every period from ``first`` to ``last`` (plus history).

        With a ``store``, periods past the metric's mutability window come from the stored
        cube and only the newer ones from the warehouse (see ``agent.pipeline.fetch``)."""
        spec = config.metrics[name]
        replayed = step(spec.grain) * EPISODE_WINDOW[spec.grain]
        first_judged = pd.Timestamp(evaluated_period(first, spec.grain)) - replayed
        start = series_start(chunk_start(first_judged, spec.grain), spec)
        probe = start - step(spec.grain) - pd.Timedelta(days=_reach(spec)[0])
        end = evaluated_period(last, spec.grain)
        newest = _newest(config, name, source, last)
        cube = fetch_cube(config, name, source, (probe.date(), end), newest, store)
        cube, whole_from = _complete_periods(cube, spec, probe, start)
        tz = config.timezone
        cube = _localized(cube, tz, spec.dimensions)
        data_end = None if newest is None else localize(pd.Timestamp(newest), tz)
        window = spec.window if spec.kind == "retention" else None
        why = unjudged_reasons(
            pd.DatetimeIndex(cube["period"].unique()),
            grain=spec.grain,
            country=config.country,
            data_end=data_end,
            maturity=None if window is None else pd.Timedelta(window),
            reach=_reach(spec),
        )
        why[(why == "") & ~_enough_volume(cube, why.index, spec.alert.min_volume)] = "volume"
        judged = why == ""
        like = like_periods(judged.index, spec, config.country)
        notes = holiday_notes(why, config.country) + like_notes(like, config.country)
        series = series_of(cube, additive=spec.additive, judged=judged, metric=name)
        segments = watched_cells(cube, spec, series, name) if spec.watch_segments else None
        notes += _fold_notes(cube, spec.dimensions)
        if whole_from is not None:
            whole_from = localize(whole_from, tz)
        return cls(
            config, name, cube, series, tuple(notes), data_end, segments, whole_from, like, why
        )

    def replay(
        self, first: date, last: date, context: Context = no_context
    ) -> Iterator[PeriodResult]:
        """Judge every period from ``first``'s to ``last``'s, in order, with episode state.

        ``context`` adds related metrics and known events to each explained finding."""
        spec = self.spec
        start, end = self._judged(first, last)
        self._detect_all(grid(self._window_start(start), end, spec.grain))
        for period in grid(start, end, spec.grain):
            episodes, recovered = self._episodes(period)
            findings = self._cache[period] or []
            yield self._result(period, findings, episodes, recovered, context)

    def _judged(self, first: date, last: date) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The first and last period judged for the days ``first`` to ``last``; hours
        only up to the last one complete in the data (the current hour is still filling)."""
        start, end = judged_range(first, last, self.spec.grain, self.config.timezone)
        if subdaily(self.spec.grain) and self.data_end is not None:
            current = localize(self.data_end.tz_localize(None).floor("h"), self.config.timezone)
            end = max(min(end, current - step(self.spec.grain)), start)
        return start, end

    def _window_start(self, period: pd.Timestamp) -> pd.Timestamp:
        """The first period replayed to rebuild the episode state of ``period``."""
        spec = self.spec
        back = period - step(spec.grain) * EPISODE_WINDOW[spec.grain]
        data_start = self.series.frame.index.min() if len(self.series.frame) else period
        return max(back, data_start)

    def _episodes(
        self, period: pd.Timestamp
    ) -> tuple[list[Episode], list[tuple[Episode, Finding]]]:
        """The episodes of ``period``'s findings and those recovering in it, from a replay
        of the ``EPISODE_WINDOW`` periods up to it (so a period's state never depends on
        where a run started)."""
        spec = self.spec
        first = self._window_start(period)
        onset = step(spec.grain) * ONSET_WINDOW[spec.grain]
        warm = first < period and first > self.series.frame.index.min()
        tracker = EpisodeTracker(spec.alert, warm=warm, onset_window=onset)
        episodes: list[Episode] = []
        recovered: list[tuple[Episode, Finding]] = []
        for p in grid(first, period, spec.grain):
            episodes, recovered = tracker.step(p, self._cache[p], partial(self._normal, period=p))
        return episodes, recovered

    def _detect_all(self, periods: list[pd.Timestamp]) -> None:
        """Fill the findings cache for ``periods``: a late-data finding, None when the
        period cannot be judged (holiday, immature…), else what the detectors found.

        Each chunk of periods is judged on its own cut of the series (``chunk_start``),
        and, within it, periods whose windows hold a holiday apart from the others."""
        todo = [p for p in periods if p not in self._cache]
        chunks: dict[pd.Timestamp, list[pd.Timestamp]] = {}
        for p in todo:
            chunks.setdefault(chunk_start(p, self.spec.grain), []).append(p)
        for start, in_chunk in chunks.items():
            self._cache.update(self._chunk(start)._judge(in_chunk))

    def _chunk(self, start: pd.Timestamp) -> MetricJob:
        """The job as seen by the periods of the chunk beginning at ``start``: its series
        and watched segments cut at ``start`` less the history, and at the chunk's end."""
        spec = self.spec
        cut = localize(series_start(start.tz_localize(None), spec), str(start.tz))
        end = chunk_end(start, spec.grain)
        cube = self.cube[(self.cube["period"] >= cut) & (self.cube["period"] < end)]
        frame = self.series.frame
        series = replace(self.series, frame=frame[(frame.index >= cut) & (frame.index < end)])
        segments = None
        if spec.watch_segments:
            segments = watched_cells(cube, spec, series, self.name, chosen_before=start)
        return replace(self, cube=cube, series=series, segments=segments, _cache={}, _values={})

    def _judge(self, periods: list[pd.Timestamp]) -> dict[pd.Timestamp, list[Finding] | None]:
        late = {p: self._late(p) for p in periods}
        judged = [p for p in periods if late[p] is None and self.series.judged.get(p, False)]
        found: dict[pd.Timestamp, list[Finding]] = {}
        for like in self._likes():
            mine = [p for p in judged if like.series.judged.get(p, False)]
            if not mine:
                continue
            total = detect_periods(like.series, detectors(self.spec), mine)
            watched = like._segment_findings(mine)
            found |= {p: total[p] + watched.get(p, []) for p in mine}
        return {p: _late_or(late[p], found.get(p)) for p in periods}

    def _likes(self) -> list[MetricJob]:
        """Views of the job that each judge one kind of period against its own kind only:
        periods whose windows hold a holiday, and the others."""
        if self.holiday_window is None or not self.holiday_window.any():
            return [self]
        return [self._only(~self.holiday_window), self._only(self.holiday_window)]

    def _only(self, kind: pd.Series) -> MetricJob:
        """The watched segments are judged on the rows ``series`` judges."""
        return replace(self, series=judged_only(self.series, kind))

    def late(self, as_of: date) -> Finding | None:
        """The late-data finding of the period complete at ``as_of``, if its data is late."""
        return self._late(self._judged(as_of, as_of)[1])

    def _late(self, period: pd.Timestamp) -> Finding | None:
        if self.whole_from is not None and period < self.whole_from:
            return None  # before the data starts: not judged, and not late either
        end = period_end(period, self.spec.grain)
        return late_data(self.series.upto(period), period, end, self.data_end)

    def _segment_findings(self, periods: list[pd.Timestamp]) -> dict[pd.Timestamp, list[Finding]]:
        """Per period, the watched segments' findings (see :mod:`agent.detect.segments`)."""
        if self.segments is None:
            return {}
        return watched_findings(self.segments, self.series, self.spec, periods)

    def _result(
        self,
        period: pd.Timestamp,
        findings: list[Finding],
        episodes: list[Episode],
        recovered: list[tuple[Episode, Finding]],
        context: Context,
    ) -> PeriodResult:
        value = self.series.value.get(period)
        value = None if value is None or pd.isna(value) else float(value)
        shown = [
            self._explain(f, ep, context)
            for f, ep in zip(findings, episodes, strict=True)
            if ep.status in (EpisodeStatus.NEW, EpisodeStatus.ONGOING)
        ]
        for ep, first in recovered:
            value_now = self._value(ep.segment, period)
            shown.append(Explanation(recovered_finding(ep, first, period, value_now), [], 0.0, ep))
        run = RunResult(
            metric=self.name,
            title=self.spec.title,
            period=period.to_pydatetime(),
            value=value,
            explanations=shown,
            notes=list(self.notes) + self._period_notes(period, findings, episodes),
        )
        # The findings of one episode share its object: one alert per episode.
        alerts = {id(ep): ep for ep in episodes if ep.status is EpisodeStatus.NEW}
        return PeriodResult(run, list(alerts.values()))

    @cached_property
    def band(self) -> pd.DataFrame:
        """The expected band drawn in reports; computed only when a report is written."""
        return seasonal_band(self.series, segment_sensitivity(self.spec))

    def history(self, period: datetime) -> pd.DataFrame:
        """Value and band of the last HISTORY_SHOWN periods up to ``period``, for the chart."""
        values = self.series.upto(pd.Timestamp(period)).frame[["value"]]
        return values.join(self.band).tail(HISTORY_SHOWN)

    def segment_history(
        self, explanations: list[Explanation], period: datetime, top: int = 4
    ) -> list[tuple[Segment, pd.Series]]:
        """The own values of each finding's ``top`` cause segments over the periods the
        chart shows, for the report's small multiples."""
        segments: list[Segment] = []
        for e in explanations:
            segments += [c.segment for c in e.causes[:top] if c.segment not in segments]
        spec, end = self.spec, pd.Timestamp(period)
        return [
            (
                dict(segment),
                series_of(self.cube, additive=spec.additive, segment=segment, metric=self.name)
                .upto(end)
                .value.tail(HISTORY_SHOWN),
            )
            for segment in segments
            if set(segment) <= set(spec.dimensions)
        ]

    def _value(self, segment: Segment, period: pd.Timestamp) -> float:
        """The value of ``segment``'s own series in ``period`` (NaN when it has none)."""
        key = tuple(sorted(segment.items()))
        if key not in self._values:
            spec = self.spec
            found = series_of(self.cube, additive=spec.additive, segment=segment) if key else None
            self._values[key] = (found or self.series).value
        value = self._values[key].get(period)
        return float(value) if value is not None and pd.notna(value) else float("nan")

    def _normal(self, first: Finding, period: pd.Timestamp) -> bool:
        """Whether the series of ``first`` is back inside its band (unknown counts as back)."""
        value = self._value(first.segment, period)
        return bool(pd.isna(value) or first.lower <= value <= first.upper)

    def _explain(self, finding: Finding, episode: Episode, context: Context) -> Explanation:
        spec = self.spec
        if finding.kind == FindingKind.LATE_DATA:
            return Explanation(finding, [], 0.0, episode)
        if not spec.dimensions:
            related, events = context(finding, [])
            return Explanation(finding, [], 0.0, episode, related=related, events=events)
        actual, expected = compare_cubes(self.cube, finding, spec.dimensions, grain=spec.grain)
        found = attribute(finding, actual, expected, spec.dimensions, additive=spec.additive)
        related, events = context(finding, found.causes)
        return Explanation(
            finding,
            found.causes,
            found.explained,
            episode,
            checked=found.checked,
            ruled_out=found.ruled_out,
            related=related,
            events=events,
        )

    def _period_notes(
        self, period: pd.Timestamp, findings: list[Finding], episodes: list[Episode]
    ) -> list[Note]:
        """Why nothing of this period alerts, when that is so: the period is not judged,
        or its episodes have not alerted yet (too few periods, or below warning)."""
        if not self.series.judged.get(period, False) and not findings:
            why = "start" if self.unjudged is None else self.unjudged.get(period, "start")
            params: dict[str, NoteValue] = {
                "period": period.to_pydatetime(),
                "why": Note(f"why_{why or 'start'}"),
            }
            return [Note("note_not_judged", params)]
        worst: dict[str, tuple[Finding, Episode]] = {}
        for f, ep in zip(findings, episodes, strict=True):
            if ep.status is EpisodeStatus.PENDING and (
                ep.id not in worst or f.severity.rank > worst[ep.id][0].severity.rank
            ):
                worst[ep.id] = (f, ep)
        return [self._pending_note(f, ep) for f, ep in worst.values()]

    def _pending_note(self, finding: Finding, episode: Episode) -> Note:
        """Why a finding's episode has not alerted: it stayed below warning, else it has
        not lasted the periods in a row the alert policy asks for."""
        reason = finding.reason or Note(f"kind_{finding.kind}")
        if episode.severity.rank < Severity.WARNING.rank:
            return Note("note_below_warning", {"reason": reason, "severity": str(episode.severity)})
        need = self.spec.alert.min_periods
        return Note("note_pending", {"reason": reason, "periods": episode.streak, "need": need})


def _newest(config: Config, name: str, source: Source, last: date) -> pd.Timestamp | None:
    """How far the metric's data is loaded: its ``freshness.query``, or the newest row.

    The newest row is first looked for in the week up to ``last``, since reading the
    whole table (often a join) costs more than a daily run's own cube; only when that
    week is empty is the whole table read.
    """
    if config.sources[config.metrics[name].source].freshness.query is not None:
        return source.data_bounds(_freshness_ref(config, name))[1]
    ref = config.table_ref(name)
    start = last - timedelta(days=7)
    _, newest = source.data_bounds(ref, since=datetime(start.year, start.month, start.day))
    return newest if newest is not None else source.data_bounds(ref)[1]


def _freshness_ref(config: Config, name: str) -> TableRef:
    """What tells how far the metric's data is loaded: its source's time column, or the
    source's ``freshness.query`` read as a one-row table."""
    ref = config.table_ref(name)
    query = config.sources[config.metrics[name].source].freshness.query
    if query is None:
        return ref
    return TableRef(name=ref.name, table=ref.table, time="cx_loaded_until", loaded_query=query)


def _complete_periods(
    cube: pd.DataFrame, spec: MetricSpec, probe: pd.Timestamp, start: pd.Timestamp
) -> tuple[pd.DataFrame, pd.Timestamp | None]:
    """The periods of ``cube`` from ``start`` on that the start of the data leaves whole,
    and the first of them when the data starts too late for some (else None).

    The cube is read from ``probe``, a period and the metric's look-back (``_reach``)
    before ``start``: rows in that first period show that the data starts before
    anything from ``start`` on looks at. Without them the data starts in the cube's
    first period with rows, perhaps on its last day, and every period looking back into
    it misses activity (churn's rows start a window after the data, its population is
    whole a window later): the demo's first revisit weeks read 0% and 17% beside about
    60% after. Those periods are left out, neither judged nor charted nor used as a
    baseline.
    """
    keep = pd.Timestamp(bucket_start(start.date(), spec.grain))
    whole = None
    probed = pd.Timestamp(bucket_start(probe.date(), spec.grain))
    if len(cube) and (first := cube["period"].min()) > probed:
        whole = first + step(spec.grain) + pd.Timedelta(days=_reach(spec)[0])
    if whole is None or whole <= keep:
        return cube[cube["period"] >= keep].reset_index(drop=True), None
    return cube[cube["period"] >= whole].reset_index(drop=True), whole


def _localized(cube: pd.DataFrame, tz: str, dimensions: list[str]) -> pd.DataFrame:
    """The cube's naive wall-clock periods in ``tz`` (``periods.localize``); rows of an
    hour the clock skipped join the hour after, so they are counted once."""
    periods = localize_periods(cube["period"], tz)
    moved = periods.dt.tz_localize(None) != pd.to_datetime(cube["period"])
    cube = cube.assign(period=periods)
    if not moved.any():
        return cube
    keys = ["period", *dimensions]
    return cube.groupby(keys, as_index=False, sort=True)[["num", "den"]].sum()


def _reach(spec: MetricSpec) -> tuple[int, int]:
    """Days before / after a period that its value depends on (see ``periods.unjudged_reasons``)."""
    if spec.kind == "churn" and spec.window is not None:
        return spec.window.days, 0  # the window a customer must stay away: holidays count
    if spec.kind == "returning" and spec.lookback is not None:
        return spec.lookback.days, 0
    if spec.kind == "retention" and spec.window is not None:
        return 0, spec.window.days
    return 0, 0


def _enough_volume(cube: pd.DataFrame, index: pd.Index, floor: float) -> pd.Series:
    volume = cube.groupby("period")["den"].sum().reindex(index).fillna(0.0)
    return volume >= floor


def _late_or(late: Finding | None, found: list[Finding] | None) -> list[Finding] | None:
    """A period's findings: its late-data finding alone, else what was found (None: the
    period was not judged)."""
    return [late] if late is not None else found


def _fold_notes(cube: pd.DataFrame, dimensions: list[str]) -> list[Note]:
    return [
        Note("note_folded", {"dimension": dim, "other": OTHER})
        for dim in dimensions
        if (cube[dim] == OTHER).any()
    ]
