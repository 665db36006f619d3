"""Make the stored schedule match metrics.yaml: one job per metric, id = the metric's name.

At start the stored jobs are read first, because adding a job anew would forget when
it was due: a job whose time passed while serve was down keeps that time, so
APScheduler runs it once now; a job whose last run did not get recorded (killed
mid-run) is moved to now as well. While serving, a reload only adds, reschedules and
removes jobs whose metric or schedule changed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from agent.config import Config
from agent.config.durations import cron_trigger
from agent.periods import evaluated_period
from agent.schedule.jobs import log_event, run_job
from agent.store import Store
from agent.store.queries import has_run

__all__ = ["previous_fire", "sync_jobs"]

JOBSTORE = "default"
LOOK_BACK = timedelta(days=32)
"""How far back the previous fire time of a cron schedule is looked for (monthly: 31 d)."""


def sync_jobs(
    scheduler: BaseScheduler,
    jobstore: BaseJobStore,
    config: Config,
    path: Path,
    store: Store,
    every: float | None,
    *,
    starting: bool,
) -> None:
    """Add, reschedule and remove jobs so there is one per metric of ``config``."""
    if starting:
        jobstore.start(scheduler, JOBSTORE)  # read what the last serve left
    existing = {job.id: job for job in jobstore.get_all_jobs()}
    for gone in sorted(set(existing) - set(config.metrics)):
        jobstore.remove_job(gone)
        log_event("unscheduled", metric=gone, reason="no longer in metrics.yaml")
    now = datetime.now(ZoneInfo(config.timezone))
    for name, spec in config.metrics.items():
        trigger = _trigger(spec.schedule, config.timezone, every)
        old = existing.get(name)
        if starting:
            when = _due(old, trigger, store, config, name, now)
            extra = {} if when is None else {"next_run_time": when}
            _add(scheduler, path, name, trigger, **extra)
        elif old is None:
            _add(scheduler, path, name, trigger)
        elif not _same(old.trigger, trigger):
            scheduler.reschedule_job(name, JOBSTORE, trigger=trigger)
            log_event("rescheduled", metric=name, schedule=str(trigger))


def _add(
    scheduler: BaseScheduler, path: Path, name: str, trigger: BaseTrigger, **kw: object
) -> None:
    scheduler.add_job(
        run_job,
        trigger,
        args=[str(path.resolve()), name],
        id=name,
        name=name,
        jobstore=JOBSTORE,
        replace_existing=True,
        **kw,
    )


def _trigger(schedule: str, timezone: str, every: float | None) -> BaseTrigger:
    if every is not None:
        return IntervalTrigger(seconds=every, timezone=ZoneInfo(timezone))
    return cron_trigger(schedule, timezone)


def _same(a: BaseTrigger, b: BaseTrigger) -> bool:
    zone = str(getattr(a, "timezone", "")), str(getattr(b, "timezone", ""))
    return type(a) is type(b) and str(a) == str(b) and zone[0] == zone[1]


def _due(
    old: Job | None, trigger: BaseTrigger, store: Store, config: Config, name: str, now: datetime
) -> datetime | None:
    """When a stored job should run next (None: as its trigger says from now)."""
    if old is None or old.next_run_time is None or not _same(old.trigger, trigger):
        return None
    due: datetime = old.next_run_time  # APScheduler 3 has no type hints
    if due <= now:
        return now  # due while serve was down: once now, however late
    before = previous_fire(trigger, due)
    if before is not None and not has_run(store, name, _period_of(before, config, name)):
        return now  # the last run started but was not recorded
    return due


def previous_fire(trigger: BaseTrigger, fire: datetime) -> datetime | None:
    """The fire time of ``trigger`` just before ``fire`` (None if over LOOK_BACK ago)."""
    if isinstance(trigger, IntervalTrigger):
        interval: timedelta = trigger.interval  # APScheduler 3 has no type hints
        return fire - interval
    previous: datetime | None = None
    current: datetime | None = trigger.get_next_fire_time(None, fire - LOOK_BACK)
    while current is not None and current < fire:
        previous = current
        current = trigger.get_next_fire_time(current, current + timedelta(seconds=1))
    return previous


def _period_of(fire: datetime, config: Config, name: str) -> datetime:
    """The period a run fired at ``fire`` judges last (naive, as the store keeps it)."""
    as_of = fire.astimezone(ZoneInfo(config.timezone)).date() - timedelta(days=1)
    day = evaluated_period(as_of, config.metrics[name].grain)
    return datetime(day.year, day.month, day.day)
