"""From insight to action: what ``run.py`` adds to a period's result before reporting it.

* the customers behind the top causes, as CSV files next to the report
  (``export_customers: true``; only ``customer_columns`` leave the warehouse);
* for a metric declared as a product (``factors:``), which factor moved;
* what the top causes' customers said, for a metric with comments (``agent.pipeline.listening``:
  read with the customer lists, so for alerts and the last period of a replay);
* feedback links per alert (``feedback.serve``), and what earlier verdicts change:
  alerts marked false lower the metric's sensitivity (``tuning:``), ``expected``
  verdicts keep the planned move from alerting while their window lasts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, tzinfo
from pathlib import Path

import pandas as pd

from agent.attribute.factors import Factor, factor_moves
from agent.config import Config
from agent.cube import OTHER
from agent.detect import DETECTORS
from agent.feedback import ExpectedWindow, FalseAlarm, feedback_links, tune
from agent.model import (
    CustomerExport,
    EpisodeStatus,
    Explanation,
    FindingKind,
    Note,
    NoteValue,
    RunResult,
    Segment,
)
from agent.pipeline.detectors import configured, with_options
from agent.pipeline.listening import Listener
from agent.pipeline.metric_run import PeriodResult
from agent.sources.base import Source
from agent.sources.customers import LAST_ACTIVITY

__all__ = ["EXPORT_CAUSES", "Insight", "suppress", "tuned_config"]

EXPORT_CAUSES = 2
"""Top causes whose customers are listed."""
_QUIET = (FindingKind.LATE_DATA, FindingKind.RECOVERED)
_ALERTED = (EpisodeStatus.NEW, EpisodeStatus.ONGOING)


def tuned_config(
    config: Config, name: str, alarms: list[FalseAlarm]
) -> tuple[Config, tuple[Note, ...]]:
    """``config`` with ``name``'s detectors tuned by its false alarms, and notes saying so."""
    spec = config.metrics[name]
    now = {
        option: getattr(options, option)
        for kind, options in configured(spec).items()
        for option in DETECTORS[kind].tunable
    }
    tuning = tune(
        spec.tuning, alarms, sensitivity=now.get("sensitivity"), min_shift=now.get("min_shift")
    )
    if not tuning.notes:
        return config, ()
    tuned = with_options(spec, {"sensitivity": tuning.sensitivity, "min_shift": tuning.min_shift})
    metrics = {**config.metrics, name: tuned}
    return config.model_copy(update={"metrics": metrics}), tuning.notes


def suppress(result: PeriodResult, windows: list[ExpectedWindow]) -> PeriodResult:
    """``result`` without the findings the team said were expected, and a note per window."""
    if not windows:
        return result
    kept, notes, gone = [], [], []
    for explanation in result.run.explanations:
        window = _expected(explanation, windows)
        if window is None:
            kept.append(explanation)
        else:
            note = _expected_note(window, explanation.finding.period.tzinfo)
            notes += [] if note in notes else [note]
            gone.append(explanation.episode)
    if not gone:
        return result
    run = replace(result.run, explanations=kept, notes=[*result.run.notes, *notes])
    return replace(result, run=run, alerts=[a for a in result.alerts if a not in gone])


def _expected(explanation: Explanation, windows: list[ExpectedWindow]) -> ExpectedWindow | None:
    finding, episode = explanation.finding, explanation.episode
    day = episode.since if finding.kind == FindingKind.RECOVERED and episode else finding.period
    for window in windows:
        same_move = window.direction == finding.direction or finding.kind == FindingKind.RECOVERED
        if (
            window.segment == finding.segment
            and same_move
            and window.start <= day.date() <= window.end
        ):
            return window
    return None


def _expected_note(window: ExpectedWindow, tz: tzinfo | None) -> Note:
    start, end = (datetime.combine(d, time(), tz) for d in (window.start, window.end))
    params: dict[str, NoteValue] = {
        "effect": str(window.direction),
        "start": start,
        "end": end,
        "text": window.note,
    }
    return Note("note_expected", params)


class Insight:
    """Adds factors, customer lists and feedback links to one metric's results."""

    def __init__(
        self,
        config: Config,
        name: str,
        source: Source,
        cubes: Callable[[str], pd.DataFrame],
    ) -> None:
        self.config, self.name, self.source = config, name, source
        spec = config.metrics[name]
        self.factors = [_factor(config, f, cubes(f)) for f in spec.factors]
        self.listener = Listener(config, name, source)

    def add(self, run: RunResult, reports_dir: Path, *, export: bool) -> RunResult:
        """``run`` with factors, feedback links and (when ``export``) customer lists."""
        explanations = [self._explain(e, reports_dir, export) for e in run.explanations]
        return replace(run, explanations=explanations)

    def _explain(self, e: Explanation, reports_dir: Path, export: bool) -> Explanation:
        if e.finding.kind in _QUIET:
            return e
        grain = self.config.metrics[self.name].grain
        factors = factor_moves(e.finding, self.factors, grain=grain) if self.factors else []
        links = {}
        if e.episode is not None and e.episode.status in _ALERTED:
            links = feedback_links(self.config.feedback, e.episode.id)
        exports = self._exports(e, reports_dir) if export else []
        e = self.listener.add(e) if export else e
        return replace(e, factors=factors, feedback_links=links, exports=exports)

    def _exports(self, e: Explanation, reports_dir: Path) -> list[CustomerExport]:
        spec = self.config.metrics[self.name]
        if not spec.export_customers:
            return []
        segments = [{**e.finding.segment, **c.segment} for c in e.causes[:EXPORT_CAUSES]]
        segments = segments or ([e.finding.segment] if e.finding.segment else [])
        return [self._export(e, s, reports_dir) for s in segments if OTHER not in s.values()]

    def _export(self, e: Explanation, segment: Segment, reports_dir: Path) -> CustomerExport:
        period = e.finding.period
        query = self.config.customer_query(self.name, period.date(), segment)
        rows = self.source.fetch_customers(query)
        rows[LAST_ACTIVITY] = pd.to_datetime(rows[LAST_ACTIVITY]).dt.strftime("%Y-%m-%d %H:%M")
        relative = f"{period:%Y-%m-%d}/{self.name}-{_slug(segment)}.csv"
        _write_csv(rows, reports_dir / relative)
        return CustomerExport(dict(segment), relative, len(rows), list(rows.columns))


def _factor(config: Config, name: str, cube: pd.DataFrame) -> Factor:
    spec = config.metrics[name]
    return Factor(name, spec.title, spec.display_unit, cube, list(spec.dimensions), spec.additive)


def _slug(segment: Segment) -> str:
    """``region-Busan_channel-app``; characters unsafe in file names become ``_``."""
    text = "_".join(f"{k}-{segment[k]}" for k in sorted(segment)) or "all"
    return re.sub(r"[^\w.-]+", "_", text).strip("._") or "segment"


def _write_csv(rows: pd.DataFrame, path: Path) -> None:
    """Write atomically: a reader (or the email attaching it) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    rows.to_csv(tmp, index=False)
    os.replace(tmp, path)
