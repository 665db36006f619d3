"""``cx-agent explain``: the full report for any segment and dates, on demand.

The segment's own series is cut from the metric's cube (one warehouse query, as a run
makes) and the asked window is compared with what came before it:

* ``--as-of D``: the period complete on D against its expected band (the baseline every
  detector uses, computed on the segment's own series); causes compare that period with
  the same weekdays (or periods) before it, as a run's anomaly does.
* ``--from A --to B``: the periods from A's through B's, pooled (``Σnum / Σden``: the
  value a hand-written query over the same rows gives; for a count or sum, the mean per
  period), against the 28 periods before A, pooled the same way; causes compare those
  two windows, as a change point's do.

Causes are searched inside the segment (its own dimensions fixed), with related metrics,
known events and what the segment's customers said (the segment itself first, then the
top causes'). The report is written under ``reports/explain/<date>/`` and nothing is
sent or recorded.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from agent.attribute import attribute, compare_cubes
from agent.attribute.baseline import CHANGE_POINT_HISTORY
from agent.cube import MetricSeries, series_of
from agent.detect.bands import seasonal_band
from agent.model import (
    Direction,
    Explanation,
    Finding,
    FindingKind,
    RunResult,
    Segment,
    Severity,
)
from agent.periods import evaluated_period, step
from agent.pipeline.detectors import segment_sensitivity
from agent.pipeline.listening import VOICE_CAUSES, Listener, voice_windows
from agent.pipeline.metric_run import HISTORY_SHOWN, MetricJob
from agent.pipeline.run import Workspace
from agent.report import ReportFiles, ReportInput, write_reports

__all__ = ["explain"]


def explain(
    workspace: Workspace, name: str, segment: Segment, first: date | None, reports_dir: Path
) -> ReportFiles:
    """Write the report of ``name`` in ``segment`` for the period complete on
    ``workspace.last`` (``first`` None) or for the days ``first`` .. ``workspace.last``."""
    job = workspace.job(name)
    spec, tz = job.spec, job.config.timezone
    series = series_of(job.cube, additive=spec.additive, segment=segment, metric=name)
    band = seasonal_band(series, segment_sensitivity(spec))
    end = pd.Timestamp(evaluated_period(workspace.last, spec.grain), tz=tz)
    start = end if first is None else pd.Timestamp(evaluated_period(first, spec.grain), tz=tz)
    finding = _finding(name, segment, series, band, start, end)
    e = _explained(job, finding, workspace, ranged=first is not None)
    run = RunResult(name, spec.title, end.to_pydatetime(), finding.value, [e], [])
    inp = ReportInput(
        run=run,
        history=series.frame[["value"]].join(band).loc[:end].tail(HISTORY_SHOWN),
        unit=spec.display_unit,
        good=spec.good,
        grain=spec.grain,
        dimensions=[d for d in spec.dimensions if d not in segment],
        locale=job.config.locale,
    )
    return write_reports(inp, reports_dir, stem=_stem(name, segment, start, end, first))


def _pooled(series: MetricSeries, periods: pd.Index) -> float:
    rows = series.frame.loc[series.frame.index.isin(periods)]
    num, den = float(rows["num"].sum()), float(rows["den"].sum())
    if series.additive:
        return num / max(len(periods), 1)
    return num / den if den else float("nan")


def _finding(
    name: str,
    segment: Segment,
    series: MetricSeries,
    band: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
) -> Finding:
    """The window's value against its expected value: the band at a single period, the
    pooled ``CHANGE_POINT_HISTORY`` periods before a range (no band then)."""
    index = series.frame.index
    if start == end:
        value = float(series.value.get(end, float("nan")))
        expected, lower, upper = (float(band[c].get(end, float("nan"))) for c in band.columns)
    else:
        value = _pooled(series, index[(index >= start) & (index <= end)])
        expected = _pooled(series, index[index < start][-CHANGE_POINT_HISTORY:])
        lower = upper = float("nan")
    return Finding(
        metric=name,
        segment=dict(segment),
        kind=FindingKind.WINDOW,
        period=end.to_pydatetime(),
        value=value,
        expected=expected,
        lower=lower,
        upper=upper,
        direction=Direction.UP if value > expected else Direction.DOWN,
        severity=Severity.INFO,
        score=float("nan"),
        since=start.to_pydatetime(),
    )


def _explained(job: MetricJob, f: Finding, workspace: Workspace, *, ranged: bool) -> Explanation:
    """Causes inside the segment, related metrics, known events and the customers' voice.

    The leaves compared are those a run compares: a change point's windows for a range,
    an anomaly's same-weekday history for a single period."""
    spec = job.spec
    compared = replace(f, kind=FindingKind.CHANGE_POINT if ranged else FindingKind.ANOMALY)
    actual, expected = compare_cubes(job.cube, compared, spec.dimensions, grain=spec.grain)
    found = attribute(compared, actual, expected, spec.dimensions, additive=spec.additive)
    related, events = workspace.context(job.name)(f, found.causes)
    e = Explanation(
        f,
        found.causes,
        found.explained,
        checked=found.checked,
        ruled_out=found.ruled_out,
        related=related,
        events=events,
    )
    windows = _windows(f, spec.grain) if ranged else None
    segments = [f.segment] + [{**f.segment, **c.segment} for c in found.causes]
    return Listener(job.config, job.name, workspace.source).add(
        e, windows, segments=segments[: 1 + VOICE_CAUSES]
    )


def _windows(f: Finding, grain: str) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """The comments of the compared windows: the range, and the periods before it."""
    before, after = voice_windows(f.since, f.period, grain)
    start = pd.Timestamp(f.since) - step(grain) * CHANGE_POINT_HISTORY
    return (start.tz_localize(None).to_pydatetime(), before[1]), after


def _stem(
    name: str, segment: Segment, start: pd.Timestamp, end: pd.Timestamp, first: date | None
) -> Path:
    """``explain/<end>/<metric>-<segment>-<start>-<end>`` (``…-as-of-<end>`` for a period)."""
    seg = "_".join(f"{k}-{v}" for k, v in sorted(segment.items())) or "all"
    dates = f"as-of-{end:%Y-%m-%d}" if first is None else f"{start:%Y-%m-%d}-{end:%Y-%m-%d}"
    slug = re.sub(r"[^\w.-]+", "_", f"{name}-{seg}-{dates}").strip("._")
    return Path("explain") / f"{end:%Y-%m-%d}" / slug
