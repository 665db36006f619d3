"""The only module that wires the stages together: source → cube → detect → attribute → report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import holidays
import pandas as pd

from agent.attribute import attribute
from agent.attribute.baseline import compare_cubes
from agent.config import Config, MetricSpec
from agent.cube import OTHER, MetricSeries, series_of
from agent.detect import DETECTORS, detect
from agent.detect.bands import seasonal_band
from agent.detect.base import Detector
from agent.model import Direction, Explanation, Finding, RunResult
from agent.report import ReportFiles, ReportInput, write_index, write_reports
from agent.sources import open_source
from agent.sources.base import CubeQuery, Source, TableRef

__all__ = [
    "MetricJob",
    "evaluated_period",
    "open_warehouse",
    "replay_metric",
    "run_metric",
    "write_index",
]

HISTORY_SHOWN = 90
"""Periods of history drawn in a report's chart."""


def open_warehouse(config: Config, base_dir: Path) -> Source:
    return open_source(config.warehouse, base_dir=base_dir)


def _step(grain: str) -> pd.DateOffset:
    return {
        "day": pd.DateOffset(days=1),
        "week": pd.DateOffset(weeks=1),
        "month": pd.DateOffset(months=1),
    }[grain]


def evaluated_period(as_of: date, grain: str) -> date:
    """The start of the latest period of ``grain`` that is complete at the end of ``as_of``."""
    day = pd.Timestamp(as_of)
    if grain == "day":
        return day.date()
    start = day.to_period("W-SUN" if grain == "week" else "M").start_time
    if start + _step(grain) - pd.Timedelta(days=1) > day:
        start -= _step(grain)
    return start.date()


@dataclass(frozen=True)
class MetricJob:
    """One metric's cube, fetched once with one query, judged for any of its periods."""

    config: Config
    name: str
    cube: pd.DataFrame
    series: MetricSeries
    band: pd.DataFrame
    notes: tuple[str, ...]

    @property
    def spec(self) -> MetricSpec:
        return self.config.metrics[self.name]

    @classmethod
    def fetch(cls, config: Config, name: str, source: Source, first: date, last: date) -> MetricJob:
        """Query the warehouse once for every period from ``first`` to ``last`` (plus history)."""
        spec = config.metrics[name]
        start = evaluated_period(first, spec.grain) - spec.history
        end = evaluated_period(last, spec.grain)
        table = _table_ref(config, spec)
        cube = source.fetch_cube(_query(name, spec, table, start, end))
        _, data_max = source.data_bounds(table)
        tz = config.timezone
        cube["period"] = pd.to_datetime(cube["period"]).dt.tz_localize(tz)
        judged, notes = _judged(cube["period"].unique(), spec, config.country, data_max, tz)
        series = series_of(cube, additive=spec.additive, judged=judged, metric=name)
        sensitivity = getattr(spec.detect.anomaly, "sensitivity", "medium")  # type: ignore[attr-defined]
        band = seasonal_band(series, sensitivity)
        notes += _fold_notes(cube, spec.dimensions)
        return cls(config, name, cube, series, band, tuple(notes))

    def judge(self, as_of: date) -> ReportInput:
        """Detect and attribute for the period complete at ``as_of``."""
        spec = self.spec
        period = pd.Timestamp(evaluated_period(as_of, spec.grain), tz=self.config.timezone)
        known = self.series.upto(period)
        findings = detect(known, _detectors(spec)) if period in known.frame.index else []
        explanations = [self._explain(f) for f in findings]
        value = known.value.get(period)
        run = RunResult(
            metric=self.name,
            title=spec.title,
            period=period.to_pydatetime(),
            value=None if value is None or pd.isna(value) else float(value),
            explanations=explanations,
            notes=list(self.notes) + _period_notes(known, period),
        )
        history = known.frame[["value"]].join(self.band).tail(HISTORY_SHOWN)
        return ReportInput(
            run=run,
            history=history,
            unit=spec.display_unit,
            good=spec.good,
            grain=spec.grain,
            dimensions=list(spec.dimensions),
        )

    def _explain(self, finding: Finding) -> Explanation:
        spec = self.spec
        if not spec.dimensions:
            return Explanation(finding, [], 0.0)
        actual, expected = compare_cubes(self.cube, finding, spec.dimensions, grain=spec.grain)
        causes, explained = attribute(
            finding, actual, expected, spec.dimensions, additive=spec.additive
        )
        return Explanation(finding, causes, explained)


def run_metric(
    config: Config, name: str, as_of: date, source: Source, reports_dir: Path
) -> tuple[RunResult, ReportFiles]:
    """Run the whole loop for one metric and one period, and write its reports."""
    job = MetricJob.fetch(config, name, source, as_of, as_of)
    report = job.judge(as_of)
    return report.run, write_reports(report, reports_dir)


def replay_metric(
    config: Config, name: str, days: list[date], source: Source, reports_dir: Path
) -> list[RunResult]:
    """Judge ``name`` for each day with one warehouse query, as if run on each of them.

    Reports are written for the days with findings and for the last day, so the index
    shows the history of alerts without hundreds of quiet pages.
    """
    job = MetricJob.fetch(config, name, source, days[0], days[-1])
    results = []
    for day in days:
        report = job.judge(day)
        if report.run.explanations or day == days[-1]:
            write_reports(report, reports_dir)
        results.append(report.run)
    return results


def _table_ref(config: Config, spec: MetricSpec) -> TableRef:
    src = config.sources[spec.source]
    return TableRef(
        name=spec.source, table=src.table, time=src.time, entity=src.entity, filter=src.filter
    )


def _query(name: str, spec: MetricSpec, table: TableRef, start: date, end: date) -> CubeQuery:
    return CubeQuery(
        metric=name,
        kind=spec.kind,
        source=table,
        grain=spec.grain,
        dimensions=tuple(spec.dimensions),
        start=start,
        end=end,
        expr=spec.expr,
        numerator=spec.numerator,
        denominator=spec.denominator,
        lookback=spec.lookback,
        window=spec.window,
        category=spec.category,
        sql=spec.sql,
        top_n=spec.top_n,
    )


def _detectors(spec: MetricSpec) -> list[Detector]:
    found = []
    for kind, cls in DETECTORS.items():
        options = getattr(spec.detect, kind)
        if options is not None:
            found.append(cls(options, good=Direction(spec.good), alert_on=spec.alert_on))
    return found


def _judged(
    periods: object, spec: MetricSpec, country: str, data_max: pd.Timestamp | None, tz: str
) -> tuple[pd.Series, list[str]]:
    """Which periods may be judged: complete, mature, and not a public holiday."""
    index = pd.DatetimeIndex(periods).sort_values()
    step = _step(spec.grain)
    last_day = pd.Timestamp(data_max).normalize().tz_localize(tz) if data_max is not None else None
    complete = (
        (index + step - pd.Timedelta(days=1) <= last_day)
        if last_day is not None
        else pd.Series(False, index=index).to_numpy()
    )
    judged = pd.Series(complete, index=index)
    if spec.kind == "retention" and spec.window is not None and last_day is not None:
        judged &= index + step + pd.Timedelta(spec.window) - pd.Timedelta(days=1) <= last_day
    notes = []
    if spec.grain == "day" and len(index):
        days_off = holidays.country_holidays(
            country, years=range(index[0].year, index[-1].year + 1)
        )
        off = pd.Series([d.date() in days_off for d in index], index=index)
        judged &= ~off
        if off.any():
            notes.append(f"{int(off.sum())} public holidays ({country}) are not judged.")
    return judged, notes


def _fold_notes(cube: pd.DataFrame, dimensions: list[str]) -> list[str]:
    return [
        f"Rare values of {dim} are folded into {OTHER}."
        for dim in dimensions
        if (cube[dim] == OTHER).any()
    ]


def _period_notes(known: MetricSeries, period: pd.Timestamp) -> list[str]:
    if period not in known.frame.index:
        return [f"No data for {period.date()}: nothing was judged."]
    if not known.judged.get(period, True):
        return [f"{period.date()} is not judged (incomplete, immature or a holiday)."]
    return []
