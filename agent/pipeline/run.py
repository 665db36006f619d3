"""The only module that wires the stages together: source → cube → detect → attribute → report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from agent.config import Config
from agent.config.loader import located
from agent.errors import ConfigError, SourceError
from agent.model import Episode, Explanation, RunResult
from agent.periods import evaluated_period
from agent.pipeline.deliver import notify_run
from agent.pipeline.metric_run import MetricJob, PeriodResult, identified
from agent.pipeline.workspace import Workspace
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
    """``run_metric`` for the last day of ``workspace``, sharing its cubes with other
    metrics; the metric's job is released when its run ends, whichever way."""
    started = utcnow()
    try:
        job = workspace.job(name)
        last = workspace.last
        result = list(job.replay(last, last, workspace.context(name)))[-1]
        if workspace.store is not None:
            result = identified(result, workspace.store)
        result = workspace.act(name, result, reports_dir, export=True)
        files = write_reports(_report_input(job, result), reports_dir)
        how = RunRecord(started, utcnow(), _rel(files, reports_dir))
        _finish_run(workspace, job, result, how, reports_dir)
    finally:
        workspace.release(name)
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
    index shows the history of alerts without hundreds of quiet pages. The metric's job
    is released when the replay ends, whichever way.
    """
    started = utcnow()
    try:
        job = workspace.job(name)
        results = list(job.replay(workspace.first, workspace.last, workspace.context(name)))
        runs = []
        for i, found in enumerate(results, start=1):
            last = i == len(results)
            if workspace.store is not None:
                found = identified(found, workspace.store)
            result = workspace.act(name, found, reports_dir, export=last or bool(found.alerts))
            files = None
            if result.run.explanations or last:
                files = write_reports(_report_input(job, result), reports_dir)
            how = RunRecord(started, utcnow(), _rel(files, reports_dir))
            _finish_run(workspace, job, result, how, reports_dir)
            runs.append(result.run)
    finally:
        workspace.release(name)
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
