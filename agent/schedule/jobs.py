"""What one scheduled run of a metric does: catch up, wait for late data, record, log.

``run_job(config_path, metric)`` is the function APScheduler calls; the job store
keeps only its dotted name and these two strings, so a job survives restarts and
always runs with the metrics.yaml as it is now.

A run judges every period from the one after the last recorded one up to the one
complete yesterday (at most ``CATCH_UP`` periods): after downtime, one run per metric
catches up, with one warehouse query. Before judging, it checks that the source has
data through the end of the newest period; if not it looks again every
``freshness.retry`` until ``freshness.wait`` has passed, then records the period with
a "data late" finding (never a drop).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from agent.config import Config, load_config
from agent.errors import SourceError
from agent.model import RunResult
from agent.periods import evaluated_period, step
from agent.pipeline import Workspace, open_state_store, open_warehouse, replay_metric, write_index
from agent.store import Store
from agent.store.queries import last_period
from agent.store.runs import record_failure, utcnow

__all__ = ["CATCH_UP", "LOG", "OUTAGE", "STOP", "as_of_now", "log_event", "run_job"]

CATCH_UP = 31
"""Most periods one run judges to catch up after downtime."""
STOP = threading.Event()
"""Set when serve is asked to stop: a run waiting for late data gives up at once."""
LOG = logging.getLogger("cx_agent.serve")


def log_event(event: str, level: int = logging.INFO, **fields: object) -> None:
    """One structured log line: a JSON object with the time, level, event and fields."""
    when = datetime.now(UTC).isoformat(timespec="seconds")
    record = {"ts": when, "event": event, "level": logging.getLevelName(level).lower(), **fields}
    LOG.log(level, json.dumps(record, default=str))


def as_of_now(config: Config) -> date:
    """The day a run started now judges up to: yesterday, in the configured timezone."""
    return datetime.now(ZoneInfo(config.timezone)).date() - timedelta(days=1)


class _Outage:
    """A warehouse that cannot be reached is one error in the log, not one per metric:
    the first run that meets it logs ``warehouse_unreachable`` (error) and the runs that
    fail for it until one goes through again log their ``run_failed`` as warnings."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down = False

    def level(self, exc: BaseException) -> int:
        """The level of ``exc``'s ``run_failed`` line."""
        if not (isinstance(exc, SourceError) and exc.unreachable):
            return logging.ERROR
        with self._lock:
            first, self._down = not self._down, True
        if first:
            log_event("warehouse_unreachable", logging.ERROR, error=exc.reason)
        return logging.WARNING

    def over(self) -> None:
        with self._lock:
            was, self._down = self._down, False
        if was:
            log_event("warehouse_reachable")


OUTAGE = _Outage()


def run_job(config_path: str, metric: str) -> None:
    """Run ``metric`` now (APScheduler's job function); failures are counted, not raised."""
    path = Path(config_path)
    started = time.monotonic()
    try:
        config = load_config(path)
    except Exception as exc:  # a broken metrics.yaml: keep serving, say it once per run
        log_event("run_failed", logging.ERROR, metric=metric, error=_one_line(exc))
        return
    if metric not in config.metrics:
        log_event("skipped", metric=metric, reason="no longer in metrics.yaml")
        return
    store = open_state_store(config, path)
    try:
        _run(config, path, metric, store, started)
        OUTAGE.over()
    except Exception as exc:  # one metric failing must not stop the others
        failures = record_failure(store, metric, _one_line(exc), utcnow())
        level = OUTAGE.level(exc)
        log_event("run_failed", level, metric=metric, failures=failures, error=_one_line(exc))
    finally:
        store.close()


def _run(config: Config, path: Path, metric: str, store: Store, started: float) -> None:
    as_of = as_of_now(config)
    first = catch_up_from(store, config, metric, as_of)
    log_event("start", metric=metric, first=first, last=as_of)
    results = _judge_when_fresh(config, path, metric, store, (first, as_of))
    if results is None:
        log_event("interrupted", metric=metric, reason="serve is stopping; not recorded")
        return
    log_event(
        "run",
        metric=metric,
        period=_periods(results),
        findings=sum(len(r.explanations) for r in results),
        severity=max(
            (r.severity for r in results if r.severity), key=lambda s: s.rank, default=None
        ),
        duration=round(time.monotonic() - started, 2),
    )


def catch_up_from(store: Store, config: Config, metric: str, as_of: date) -> date:
    """The first day whose period a run at ``as_of`` judges: the one after the last recorded
    period (at most CATCH_UP periods back), or ``as_of`` itself."""
    grain = config.metrics[metric].grain
    last = last_period(store, metric)
    if last is None:
        return as_of
    # the last day of the period after the last recorded one
    first = (pd.Timestamp(last) + 2 * step(grain) - pd.Timedelta(days=1)).date()
    oldest = (pd.Timestamp(evaluated_period(as_of, grain)) - CATCH_UP * step(grain)).date()
    return min(max(first, oldest), as_of)


def _judge_when_fresh(
    config: Config, path: Path, metric: str, store: Store, days: tuple[date, date]
) -> list[RunResult] | None:
    """Judge and record the periods of ``days`` once the newest one's data is in, or once
    the source's ``freshness.wait`` is over; None if serve stops while waiting."""
    freshness = config.sources[config.metrics[metric].source].freshness
    deadline = time.monotonic() + freshness.wait.total_seconds()
    reports = (path.parent / config.reports.dir).resolve()
    while True:
        with open_warehouse(config, path) as source:
            workspace = Workspace(config, source, *days, store)
            late = workspace.job(metric).late(days[1])
            left = deadline - time.monotonic()
            if late is not None:
                retry = min(freshness.retry.total_seconds(), left) if left > 0 else None
                log_event("data_late", metric=metric, as_of=days[1], retry_in=retry)
            if late is None or left <= 0:
                results = replay_metric(workspace, metric, reports)
                write_index(reports, lang=config.locale)
                return results
        if STOP.wait(min(freshness.retry.total_seconds(), left)):
            return None


def _periods(results: list[RunResult]) -> str:
    days = [f"{r.period:%Y-%m-%d}" for r in results]
    return days[0] if len(days) == 1 else f"{days[0]}..{days[-1]}"


def _one_line(exc: BaseException) -> str:
    lines = exc.lines() if hasattr(exc, "lines") else [str(exc)]
    return " / ".join(lines) or type(exc).__name__
