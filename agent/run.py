"""The only module that wires the stages together: source → cube → detect → attribute → report."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from agent.alerting import notify_run
from agent.attribute.context import (
    EVENT_COLUMNS,
    EventSpec,
    EventTable,
    events_from_rows,
    events_near,
    related_change,
)
from agent.config import Config
from agent.config.loader import located
from agent.errors import ConfigError, SourceError
from agent.feedback import ExpectedWindow, expected_windows, false_alarms
from agent.insight import Insight, suppress, tuned_config
from agent.job import Context, MetricJob, PeriodResult
from agent.model import (
    Cause,
    Episode,
    Explanation,
    Finding,
    KnownEvent,
    Note,
    Related,
    RunResult,
)
from agent.periods import evaluated_period
from agent.report import ReportFiles, ReportInput, write_index, write_reports
from agent.sources import open_source
from agent.sources.base import Source
from agent.store import Store, open_store
from agent.store.runs import RunRecord, record_run, utcnow

__all__ = [
    "Backfill",
    "Workspace",
    "backfill_metric",
    "data_start",
    "evaluated_period",
    "open_state_store",
    "open_warehouse",
    "replay_metric",
    "run_in",
    "run_metric",
    "write_index",
]


ContextItems = tuple[list[Related], list[KnownEvent]]
CONTEXT_CAUSES = 2
"""Top causes whose segments get behavioural context (related metrics) in a report."""


def open_warehouse(config: Config, config_path: Path) -> Source:
    """The warehouse of ``config`` (read from ``config_path``), not connected yet: its URL,
    settings and driver are checked here, a problem shown at the ``warehouse:`` line."""
    try:
        return open_source(config.warehouse, base_dir=config_path.parent.resolve())
    except ConfigError as exc:
        raise located(exc, "warehouse", config_path) from None


def open_state_store(config: Config, config_path: Path) -> Store:
    """The state store of ``config`` (read from ``config_path``); a store that cannot be
    opened is a problem at the ``store:`` line."""
    try:
        return open_store(config.store, base_dir=config_path.parent.resolve())
    except ConfigError as exc:
        raise located(exc, "store", config_path) from None


class Workspace:
    """The metric jobs of one run over ``first``..``last``, each fetched once, on demand.

    A finding's behavioural context reads other metrics' cubes, so they are shared
    between the metrics of a run rather than queried again.
    """

    def __init__(
        self, config: Config, source: Source, first: date, last: date, store: Store | None = None
    ) -> None:
        """``store``: where runs are recorded and final cube periods reused (None: neither)."""
        self.config, self.source, self.first, self.last = config, source, first, last
        self.store = store
        self._jobs: dict[str, MetricJob] = {}
        self._failed: dict[str, SourceError] = {}
        self._events: list[EventSpec] | None = None
        self._insight: dict[str, tuple[Insight, list[ExpectedWindow]]] = {}

    def job(self, name: str) -> MetricJob:
        """``name``'s job; a SourceError when its source failed (once: a query the
        warehouse refused is not sent again in this run)."""
        if name in self._failed:
            raise self._failed[name]
        if name not in self._jobs:
            config, notes = self._tuned(name)
            try:
                job = MetricJob.fetch(config, name, self.source, self.first, self.last, self.store)
            except SourceError as exc:
                if not exc.unreachable:  # the warehouse may be back for the next one
                    self._failed[name] = exc
                raise
            self._jobs[name] = replace(job, notes=job.notes + notes) if notes else job
        return self._jobs[name]

    def _tuned(self, name: str) -> tuple[Config, tuple[Note, ...]]:
        """The config with ``name``'s detectors tuned by the alerts marked false."""
        if self.store is None:
            return self.config, ()
        return tuned_config(self.config, name, false_alarms(self.store, name))

    def act(
        self, name: str, result: PeriodResult, reports_dir: Path, *, export: bool
    ) -> PeriodResult:
        """``result`` as the team acts on it (see ``agent.insight``): moves marked expected
        left out; factors, feedback links and (``export``) customer lists added."""
        if name not in self._insight:
            windows = expected_windows(self.store, name) if self.store else []
            cubes = lambda metric: self.job(metric).cube  # noqa: E731
            self._insight[name] = (Insight(self.config, name, self.source, cubes), windows)
        insight, windows = self._insight[name]
        result = suppress(result, windows)
        return replace(result, run=insight.add(result.run, reports_dir, export=export))

    def context(self, name: str) -> Context:
        """Related metrics in the top causes' segments and known events near the onset."""

        def explain(
            finding: Finding, causes: list[Cause]
        ) -> tuple[list[Related], list[KnownEvent]]:
            segments = [c.segment for c in causes[:CONTEXT_CAUSES]]
            related = [r for seg in segments for r in self._related(name, finding, seg)]
            grain = self.config.metrics[name].grain
            return related, events_near(self.events(), finding, segments, grain)

        return explain

    def events(self) -> list[EventSpec]:
        """metrics.yaml ``events:``, read from the warehouse once when it names a table."""
        if self._events is None:
            spec = self.config.events
            self._events = self._read_events(spec.table) if isinstance(spec, EventTable) else spec
        return self._events

    def _read_events(self, table: str) -> list[EventSpec]:
        rows = self.source.fetch_events(table)
        try:
            return events_from_rows(rows)
        except (ValidationError, KeyError, ValueError) as exc:
            raise SourceError(
                f"reading the known events in table {table}",
                f"unreadable event row ({str(exc).splitlines()[0]}); the table needs columns "
                f"name and start_date, and may have {', '.join(EVENT_COLUMNS[1:])} and "
                "dimension columns",
                f"SELECT * FROM {table}",
            ) from exc

    def _related(self, name: str, finding: Finding, segment: dict[str, str]) -> list[Related]:
        grain = self.config.metrics[name].grain
        found = []
        for other, spec in self.config.metrics.items():
            if other == name or spec.grain != grain or not set(segment) <= set(spec.dimensions):
                continue
            try:
                cube = self.job(other).cube
            except SourceError as exc:  # its own run says so; this one goes on without it
                if exc.unreachable:
                    raise
                continue
            change = related_change(
                cube,
                finding,
                segment,
                dimensions=spec.dimensions,
                additive=spec.additive,
                grain=grain,
            )
            if change is not None:
                found.append(Related(other, spec.title, dict(segment), *change, spec.display_unit))
        return found


def _report_input(job: MetricJob, result: PeriodResult) -> ReportInput:
    spec = job.spec
    return ReportInput(
        run=result.run,
        history=job.history(result.run.period),
        unit=spec.display_unit,
        good=spec.good,
        grain=spec.grain,
        dimensions=list(spec.dimensions),
        locale=job.config.locale,
        playbook=spec.playbook,
        segments=job.segment_history(result.run.explanations, result.run.period),
    )


def run_metric(
    config: Config,
    name: str,
    as_of: date,
    source: Source,
    reports_dir: Path,
    store: Store | None = None,
) -> tuple[RunResult, ReportFiles]:
    """Run the whole loop for one metric and the period complete at ``as_of``; write its
    reports, and record the run in ``store`` when one is given."""
    return run_in(Workspace(config, source, as_of, as_of, store), name, reports_dir)


def run_in(workspace: Workspace, name: str, reports_dir: Path) -> tuple[RunResult, ReportFiles]:
    """``run_metric`` for the last day of ``workspace``, sharing its jobs with other metrics."""
    started = utcnow()
    job = workspace.job(name)
    last = workspace.last
    result = list(job.replay(last, last, workspace.context(name)))[-1]
    result = workspace.act(name, result, reports_dir, export=True)
    files = write_reports(_report_input(job, result), reports_dir)
    how = RunRecord(started, utcnow(), _rel(files, reports_dir))
    _finish_run(workspace, job, result, how, reports_dir)
    return result.run, files


def _finish_run(
    workspace: Workspace, job: MetricJob, result: PeriodResult, how: RunRecord, reports_dir: Path
) -> None:
    """The one place a judged period leaves the run: recorded whole in the store.

    Every path goes through here (``cx-agent run``, the demo replay, ``serve`` and its
    catch-up), after the period's reports are written. Sending alerts belongs right
    after ``record_run``: what is sent then refers to a recorded run and its episodes.
    """
    if workspace.store is None:
        return
    record_run(workspace.store, result.run, how)
    inp = _report_input(job, result)
    notify_run(workspace.store, workspace.config, inp, how.report_path, reports_dir)


def _rel(files: ReportFiles | None, reports_dir: Path) -> str | None:
    return None if files is None else files.html.relative_to(reports_dir).as_posix()


def replay_metric(workspace: Workspace, name: str, reports_dir: Path) -> list[RunResult]:
    """Judge every period of ``workspace``'s range with one warehouse query per metric.

    Reports are written for the periods with findings and for the last one, so the
    index shows the history of alerts without hundreds of quiet pages.
    """
    started = utcnow()
    job = workspace.job(name)
    results = list(job.replay(workspace.first, workspace.last, workspace.context(name)))
    runs = []
    for i, found in enumerate(results, start=1):
        last = i == len(results)
        result = workspace.act(name, found, reports_dir, export=last or bool(found.alerts))
        files = None
        if result.run.explanations or last:
            files = write_reports(_report_input(job, result), reports_dir)
        how = RunRecord(started, utcnow(), _rel(files, reports_dir))
        _finish_run(workspace, job, result, how, reports_dir)
        runs.append(result.run)
    return runs


def data_start(config: Config, names: list[str], source: Source) -> tuple[str, pd.Timestamp] | None:
    """The source, among those of metrics ``names``, whose rows start first, and its
    first row's time (None when none can tell: empty, or failing; a source that fails is
    left to its metrics' runs to report)."""
    firsts = {}
    for ref in {config.table_ref(name).name: config.table_ref(name) for name in names}.values():
        try:
            first = source.data_bounds(ref)[0]
        except SourceError:
            continue
        if first is not None:
            firsts[ref.name] = first
    return min(firsts.items(), key=lambda item: item[1]) if firsts else None


@dataclass(frozen=True)
class Backfill:
    """What replaying a metric over a date range would have alerted."""

    metric: str
    periods: int
    alerts: list[Episode]
    periods_with_findings: int
    raised: list[Explanation] = field(default_factory=list)
    """Per alert, in the order of ``alerts``: the finding it was raised with, and its causes."""


def backfill_metric(config: Config, name: str, first: date, last: date, source: Source) -> Backfill:
    """Replay ``name`` from ``first`` to ``last`` with its alert policy; nothing is written."""
    job = MetricJob.fetch(config, name, source, first, last)
    results = list(job.replay(first, last))
    raised = [e for r in results for e in _raised(r)]
    return Backfill(
        metric=name,
        periods=len(results),
        alerts=[alert for r in results for alert in r.alerts],
        periods_with_findings=sum(1 for r in results if r.run.explanations),
        raised=raised,
    )


def _raised(result: PeriodResult) -> list[Explanation]:
    """Per alert of ``result``, the first of its episode's explanations (findings of one
    episode share its object)."""
    first: dict[int, Explanation] = {}
    for e in result.run.explanations:
        if any(e.episode is alert for alert in result.alerts):
            first.setdefault(id(e.episode), e)
    return [first[id(alert)] for alert in result.alerts if id(alert) in first]
