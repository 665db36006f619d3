"""``cx-agent serve``: one APScheduler job per metric, kept in the store, run unattended.

* Jobs live in the store's database (``apscheduler_jobs``) under the metric's name, so
  a restart finds them: a job whose time passed while serve was down runs once now
  (``coalesce``), and so does one whose last run was killed before it was recorded.
* Metrics removed from metrics.yaml leave the schedule; a changed ``schedule:`` takes
  effect on restart, on SIGHUP and when metrics.yaml changes on disk.
* A metric never runs twice at once (``max_instances=1``); only one serve runs per
  store (``lock``); SIGTERM and SIGINT let the running jobs finish, then exit.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import URL

from agent.config import Config, load_config
from agent.feedback import start_feedback_server
from agent.pipeline import deliver_due, open_state_store, open_warehouse
from agent.schedule.jobs import STOP, log_event
from agent.schedule.lock import serve_lock
from agent.schedule.sync import sync_jobs
from agent.store import Store

__all__ = ["MISFIRE_GRACE", "serve"]

MISFIRE_GRACE = timedelta(hours=6)
"""A run late by more than this while serve is up (machine asleep) is skipped; after a
restart, missed runs are caught up whatever their delay (see ``sync``)."""
WATCH_EVERY = 2.0
"""Seconds between two looks at metrics.yaml (and at a pending SIGHUP)."""
DRAIN_EVERY = 30.0
"""Seconds between two passes over the outbox between runs: a delivery whose retry is
due goes out then, not only when a run of its metric comes."""


def serve(config_path: Path, every: float | None = None) -> None:
    """Run every metric on its schedule until SIGTERM/SIGINT; ``every``: seconds, tests only."""
    _log_to_stderr()
    config = _checked(config_path)
    store = open_state_store(config, config_path)
    with serve_lock(store):
        executor = ThreadPoolExecutor(max(4, len(config.metrics)))
        jobs = SQLAlchemyJobStore(engine=store.engine)
        scheduler = BlockingScheduler(
            jobstores={"default": jobs},
            executors={"default": executor},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(MISFIRE_GRACE.total_seconds()),
            },
            timezone=config.timezone,
        )
        sync_jobs(scheduler, jobs, config, config_path, store, every, starting=True)
        watcher = _Watcher(scheduler, jobs, config_path, store, every, config)
        scheduler.add_jobstore(MemoryJobStore(), "internal")
        scheduler.add_job(watcher.check, "interval", seconds=WATCH_EVERY, jobstore="internal")
        scheduler.add_job(
            watcher.drain,
            "interval",
            seconds=DRAIN_EVERY,
            jobstore="internal",
            next_run_time=datetime.now(UTC),
        )
        _on_signals(scheduler, watcher)
        log_event("serving", metrics=list(config.metrics), store=_where(store.engine.url))
        links = start_feedback_server(config.feedback, store) if config.feedback.serve else None
        if links is not None:
            log_event("feedback", url=config.feedback.url)
        scheduler.start()
        executor.shutdown(wait=True)  # the jobs running when the stop came
        if links is not None:
            links.shutdown()
        log_event("stopped")
    store.close()


def _checked(config_path: Path) -> Config:
    """metrics.yaml loaded, its warehouse URL checked (not connected): a file that cannot
    run refuses to start serve, or is not taken on reload, instead of failing every run."""
    config = load_config(config_path)
    open_warehouse(config, config_path).close()
    return config


class _Watcher:
    """Reloads metrics.yaml on SIGHUP or when the file changes; a bad file keeps the old
    schedule and is logged."""

    def __init__(
        self,
        scheduler: BlockingScheduler,
        jobs: SQLAlchemyJobStore,
        path: Path,
        store: Store,
        every: float | None,
        config: Config,
    ) -> None:
        self.scheduler, self.jobs, self.path = scheduler, jobs, path
        self.store, self.every, self.config = store, every, config
        self.hangup = threading.Event()
        self.mtime = self._mtime()

    def _mtime(self) -> int:
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return 0

    def check(self) -> None:
        mtime = self._mtime()
        if mtime == self.mtime and not self.hangup.is_set():
            return
        self.mtime, why = mtime, "SIGHUP" if self.hangup.is_set() else "metrics.yaml changed"
        self.hangup.clear()
        try:
            config = _checked(self.path)
        except Exception as exc:
            log_event("reload_failed", logging.ERROR, reason=why, error=str(exc))
            return
        sync_jobs(
            self.scheduler, self.jobs, config, self.path, self.store, self.every, starting=False
        )
        self.config = config
        log_event("reloaded", reason=why, metrics=list(config.metrics))

    def drain(self) -> None:
        """Send the outbox's due deliveries (retries of channels that were down)."""
        reports = (self.path.parent / self.config.reports.dir).resolve()
        try:
            deliver_due(self.store, self.config, reports, wait=False)
        except Exception as exc:  # a store or channel problem: say it, keep serving
            log_event("delivery_failed", logging.ERROR, error=str(exc))


def _on_signals(scheduler: BlockingScheduler, watcher: _Watcher) -> None:
    def stop(signum: int, _frame: object) -> None:
        if STOP.is_set():
            return
        STOP.set()
        log_event("stopping", signal=signal.Signals(signum).name)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, lambda *_: watcher.hangup.set())


class _SchedulerLines(logging.Formatter):
    """APScheduler's own warnings (a skipped or missed run) as structured lines too."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds")
        line = {"ts": when, "event": "scheduler", "level": record.levelname.lower()}
        return json.dumps(line | {"message": record.getMessage()})


def _log_to_stderr() -> None:
    """Our JSON lines go to stderr as they are; APScheduler's warnings wrapped as JSON."""
    for name, formatter, level in (
        ("cx_agent", logging.Formatter("%(message)s"), logging.INFO),
        ("apscheduler", _SchedulerLines(), logging.WARNING),
    ):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


def _where(url: URL) -> str:
    return url.render_as_string(hide_password=True)
