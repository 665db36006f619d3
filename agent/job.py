"""One metric's cube, fetched once, judged period after period with its episode state.

A run judges one period, but whether a finding is a new alert, an update of an
ongoing one or a recovery depends on the periods before it. The job therefore
replays the last ``EPISODE_WINDOW`` periods before the first one asked for (the
findings of the first replayed period count as already alerted), so a daily run and
a backfill over months agree without any stored state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

import pandas as pd

from agent.attribute import attribute
from agent.attribute.baseline import compare_cubes
from agent.config import Config, MetricSpec
from agent.cube import OTHER, MetricSeries, series_of
from agent.detect import DETECTORS, detect_periods
from agent.detect.bands import seasonal_band
from agent.detect.base import Detector
from agent.detect.episodes import EpisodeTracker, recovered_finding
from agent.detect.freshness import late_data
from agent.detect.segments import Cells
from agent.incremental import fetch_cube
from agent.model import (
    Cause,
    Direction,
    Episode,
    EpisodeStatus,
    Explanation,
    Finding,
    FindingKind,
    KnownEvent,
    Note,
    Related,
    RunResult,
    Segment,
)
from agent.periods import evaluated_period, grid, judged_mask, period_end, step
from agent.sources.base import Source, TableRef
from agent.sources.rows import bucket_start
from agent.store import Store
from agent.watched import watched_cells, watched_findings

__all__ = ["EPISODE_WINDOW", "HISTORY_SHOWN", "Context", "MetricJob", "PeriodResult", "no_context"]

HISTORY_SHOWN = 90
"""Periods of history drawn in a report's chart."""
EPISODE_WINDOW = {"day": 35, "week": 10, "month": 6}
"""Periods replayed before the first judged one to rebuild the episode state."""
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
    _cache: dict[pd.Timestamp, list[Finding] | None] = field(default_factory=dict, repr=False)

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
        cube and only the newer ones from the warehouse (see ``agent.incremental``)."""
        spec = config.metrics[name]
        replayed = step(spec.grain) * EPISODE_WINDOW[spec.grain]
        start = pd.Timestamp(evaluated_period(first, spec.grain)) - spec.history - replayed
        probe = start - step(spec.grain) - pd.Timedelta(days=_reach(spec)[0])
        end = evaluated_period(last, spec.grain)
        newest = _newest(config, name, source, last)
        cube = fetch_cube(config, name, source, (probe.date(), end), newest, store)
        cube, whole_from = _complete_periods(cube, spec, probe, start)
        tz = config.timezone
        cube["period"] = pd.to_datetime(cube["period"]).dt.tz_localize(tz)
        data_end = None if newest is None else pd.Timestamp(newest).tz_localize(tz)
        judged, notes = judged_mask(
            pd.DatetimeIndex(cube["period"].unique()),
            grain=spec.grain,
            country=config.country,
            data_end=data_end,
            maturity=pd.Timedelta(spec.window) if spec.kind == "retention" else None,
            reach=_reach(spec),
        )
        judged &= _enough_volume(cube, judged.index, spec.alert.min_volume)
        series = series_of(cube, additive=spec.additive, judged=judged, metric=name)
        segments = watched_cells(cube, spec, series, name) if spec.watch_segments else None
        notes += _fold_notes(cube, spec.dimensions)
        if whole_from is not None:
            whole_from = whole_from.tz_localize(tz)
        return cls(config, name, cube, series, tuple(notes), data_end, segments, whole_from)

    def replay(
        self, first: date, last: date, context: Context = no_context
    ) -> Iterator[PeriodResult]:
        """Judge every period from ``first``'s to ``last``'s, in order, with episode state.

        ``context`` adds related metrics and known events to each explained finding."""
        spec = self.spec
        tz = self.config.timezone
        start = pd.Timestamp(evaluated_period(first, spec.grain), tz=tz)
        end = pd.Timestamp(evaluated_period(last, spec.grain), tz=tz)
        warmup = start - step(spec.grain) * EPISODE_WINDOW[spec.grain]
        data_start = self.series.frame.index.min() if len(self.series.frame) else start
        tracker = EpisodeTracker(spec.alert)
        periods = grid(max(warmup, data_start), end, spec.grain)
        self._detect_all(periods)
        for period in periods:
            findings = self._cache[period]
            episodes, recovered = tracker.step(
                period, findings, lambda first, p=period: self._normal(first, p)
            )
            if period >= start:
                yield self._result(period, findings or [], episodes, recovered, context)

    def _detect_all(self, periods: list[pd.Timestamp]) -> None:
        """Fill the findings cache for ``periods``: a late-data finding, None when the
        period cannot be judged (holiday, immature…), else what the detectors found."""
        todo = [p for p in periods if p not in self._cache]
        late = {p: self._late(p) for p in todo}
        judged = [p for p in todo if late[p] is None and self.series.judged.get(p, False)]
        total = detect_periods(self.series, _detectors(self.spec), judged)
        watched = self._segment_findings(judged)
        for p in todo:
            found = [late[p]] if late[p] is not None else None
            if p in total:
                found = total[p] + watched.get(p, [])
            self._cache[p] = found

    def late(self, as_of: date) -> Finding | None:
        """The late-data finding of the period complete at ``as_of``, if its data is late."""
        period = pd.Timestamp(evaluated_period(as_of, self.spec.grain), tz=self.config.timezone)
        return self._late(period)

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
        return seasonal_band(self.series, _sensitivity(self.spec))

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
        if segment and self.segments is not None:
            at = self.series.frame.index.get_indexer(pd.Index([period]))[0]
            return self.segments.value(segment, int(at)) if at >= 0 else float("nan")
        value = self.series.value.get(period)
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
            return Explanation(finding, [], 0.0, episode, *context(finding, []))
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
        if not self.series.judged.get(period, False) and not findings:
            return [Note("note_not_judged", {"period": period.to_pydatetime()})]
        need = self.spec.alert.min_periods
        return [
            Note(
                "note_pending",
                {"reason": f.reason or Note(f"kind_{f.kind}"), "periods": ep.periods, "need": need},
            )
            for f, ep in zip(findings, episodes, strict=True)
            if ep.status is EpisodeStatus.PENDING
        ]


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


def _reach(spec: MetricSpec) -> tuple[int, int]:
    """Days before / after a period that its value depends on (see ``judged_mask``)."""
    if spec.kind == "churn" and spec.window is not None:
        return spec.window.days, 0  # the window a customer must stay away: holidays count
    if spec.kind == "returning" and spec.lookback is not None:
        return spec.lookback.days, 0
    if spec.kind == "retention" and spec.window is not None:
        return 0, spec.window.days
    return 0, 0


def _sensitivity(spec: MetricSpec) -> str:
    return getattr(spec.detect.anomaly, "sensitivity", "medium")  # type: ignore[attr-defined]


def _enough_volume(cube: pd.DataFrame, index: pd.Index, floor: float) -> pd.Series:
    volume = cube.groupby("period")["den"].sum().reindex(index).fillna(0.0)
    return volume >= floor


def _detectors(spec: MetricSpec) -> list[Detector]:
    found = []
    for kind, cls in DETECTORS.items():
        options = getattr(spec.detect, kind)
        if options is not None:
            found.append(cls(options, good=Direction(spec.good), alert_on=spec.alert_on))
    return found


def _fold_notes(cube: pd.DataFrame, dimensions: list[str]) -> list[Note]:
    return [
        Note("note_folded", {"dimension": dim, "other": OTHER})
        for dim in dimensions
        if (cube[dim] == OTHER).any()
    ]
