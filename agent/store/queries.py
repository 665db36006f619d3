"""Reads of the store for people: ``cx-agent status`` and ``cx-agent history``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, column, func, inspect, select, table

from agent.store import Store
from agent.store.schema import deliveries, episodes, job_health, runs

__all__ = [
    "EpisodeRow",
    "MetricStatus",
    "LATE",
    "OPEN",
    "episode_history",
    "has_run",
    "last_period",
    "metric_status",
]

OPEN = ("new", "ongoing")
"""Episode statuses of an alerted story that is not over."""
LATE = timedelta(minutes=5)
"""How late a scheduled run, or a delivery's retry, may be before a person should look:
``serve`` fires runs on time and retries due deliveries every ``DRAIN_EVERY`` seconds;
a run waits out its own retries. Later than this, nothing is doing it."""
JOBS_TABLE = "apscheduler_jobs"
"""Where ``cx-agent serve`` keeps its schedule (APScheduler's SQLAlchemy job store)."""


@dataclass(frozen=True)
class MetricStatus:
    """One metric as ``cx-agent status`` shows it."""

    metric: str
    last_period: datetime | None
    last_status: str | None
    last_severity: str | None
    failures: int
    """Failed runs in a row (0: the latest run went well)."""
    last_error: str | None
    last_failure: datetime | None
    """The last failed run (naive UTC), kept after later successes, and its command."""
    failed_in: str | None
    next_run: datetime | None
    """Aware UTC; None when ``serve`` has not scheduled the metric."""
    open_episodes: int
    pending_deliveries: int
    failed_deliveries: int
    overdue_deliveries: int
    """Failed, or still pending after their expiry: they will not be sent by themselves."""
    stalled_deliveries: int = 0
    """Pending past their retry time, or left ``sending`` past their lease: nothing is
    retrying them (no run and no ``serve`` since)."""
    now: datetime | None = None
    """When this status was taken (naive UTC)."""

    @property
    def overdue_since(self) -> datetime | None:
        """When the scheduled run was due, if it is late by more than LATE."""
        if self.next_run is None or self.now is None:
            return None
        due = self.next_run.astimezone(UTC).replace(tzinfo=None)
        return self.next_run if due < self.now - LATE else None

    @property
    def stuck(self) -> list[str]:
        """What needs a person, in words (empty when all is well)."""
        return self.reasons()

    def reasons(self, zone: tzinfo = UTC) -> list[str]:
        """``stuck``, with times shown in ``zone``."""
        reasons = []
        if self.failures and self.last_failure is not None:
            times = f", {self.failures} in a row" if self.failures > 1 else ""
            when = _shown(self.last_failure.replace(tzinfo=UTC), zone)
            by = f"{self.failed_in}, " if self.failed_in else ""
            reasons.append(f"the latest run failed ({by}{when}{times}): {self.last_error}")
        if (due := self.overdue_since) is not None:
            reasons.append(
                f"the run scheduled for {_shown(due, zone)} has not run: is `cx-agent serve` up?"
            )
        if self.overdue_deliveries:
            reasons.append(f"{self.overdue_deliveries} alert deliveries failed or expired")
        if self.stalled_deliveries:
            reasons.append(
                f"{self.stalled_deliveries} alert deliveries wait past their retry time "
                "(the next run or `cx-agent serve` retries them)"
            )
        return reasons


def _shown(moment: datetime, zone: tzinfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}"


@dataclass(frozen=True)
class EpisodeRow:
    since: datetime
    last_seen: datetime
    status: str
    segment_key: str
    direction: str
    severity: str
    periods: int
    last_value: float | None
    last_expected: float | None
    id: str
    """What ``cx-agent feedback`` takes."""
    segments: list[dict[str, str]] | None
    """Every segment the incident showed in (None: recorded before schema 3, just the one)."""


def metric_status(store: Store, metrics: list[str], now: datetime) -> list[MetricStatus]:
    """The status of each of ``metrics``; ``now`` is naive UTC (delivery expiry)."""
    with store.engine.connect() as conn:
        schedule = _next_runs(conn)
        return [_status(conn, name, now, schedule.get(name)) for name in metrics]


def _status(conn: Connection, name: str, now: datetime, next_run: datetime | None) -> MetricStatus:
    last = conn.execute(
        select(runs.c.period, runs.c.status, runs.c.severity)
        .where(runs.c.metric == name)
        .order_by(runs.c.period.desc())
        .limit(1)
    ).first()
    h = job_health.c
    health = conn.execute(
        select(h.failures, h.last_error, h.last_failure, h.failed_in).where(h.metric == name)
    ).first()
    open_count = conn.execute(
        select(func.count())
        .select_from(episodes)
        .where(episodes.c.metric == name, episodes.c.status.in_(OPEN))
    ).scalar_one()
    return MetricStatus(
        metric=name,
        last_period=last.period if last else None,
        last_status=last.status if last else None,
        last_severity=last.severity if last else None,
        failures=health.failures if health else 0,
        last_error=health.last_error if health else None,
        last_failure=health.last_failure if health else None,
        failed_in=health.failed_in if health else None,
        next_run=next_run,
        open_episodes=int(open_count),
        now=now,
        **_delivery_counts(conn, name, now),
    )


def _delivery_counts(conn: Connection, name: str, now: datetime) -> dict[str, int]:
    d = deliveries.c
    rows = conn.execute(
        select(d.status, d.expires_at, d.next_attempt_at, d.created_at).where(
            d.metric == name, d.status.in_(("pending", "sending", "failed", "expired"))
        )
    ).all()
    waiting = [r for r in rows if r.status in ("pending", "sending")]
    failed = sum(1 for r in rows if r.status in ("failed", "expired"))
    late = [r for r in waiting if r.expires_at >= now]
    return {
        "pending_deliveries": len(waiting),
        "failed_deliveries": failed,
        "overdue_deliveries": failed + len(waiting) - len(late),
        "stalled_deliveries": len([r for r in late if _stalled(r, now)]),
    }


def _stalled(row: Any, now: datetime) -> bool:
    """A delivery nobody is retrying: pending LATE past its retry time, or ``sending``
    past its lease (the process sending it died)."""
    due: datetime = row.next_attempt_at or row.created_at
    if row.status == "sending":
        return due <= now
    return due <= now - LATE


def _next_runs(conn: Connection) -> dict[str, datetime]:
    """Next run time of each scheduled metric, as ``serve`` stored it (none before serve)."""
    if not inspect(conn).has_table(JOBS_TABLE):
        return {}
    jobs = table(JOBS_TABLE, column("id"), column("next_run_time"))
    rows = conn.execute(select(jobs.c.id, jobs.c.next_run_time)).all()
    return {job_id: datetime.fromtimestamp(when, UTC) for job_id, when in rows if when is not None}


def episode_history(store: Store, metric: str) -> list[EpisodeRow]:
    """Every recorded episode of ``metric``, the latest first."""
    e = episodes.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                e.since,
                e.last_seen,
                e.status,
                e.segment_key,
                e.direction,
                e.severity,
                e.periods,
                e.last_value,
                e.last_expected,
                e.id,
                e.segments,
            )
            .where(e.metric == metric, e.status != "merged")
            .order_by(e.since.desc(), e.segment_key)
        ).all()
    return [EpisodeRow(*row) for row in rows]


def last_period(store: Store, metric: str) -> datetime | None:
    """The latest period of ``metric`` with a recorded run (naive, as stored)."""
    with store.engine.connect() as conn:
        return conn.execute(select(func.max(runs.c.period)).where(runs.c.metric == metric)).scalar()


def has_run(store: Store, metric: str, period: datetime) -> bool:
    with store.engine.connect() as conn:
        found = conn.execute(
            select(runs.c.id).where(runs.c.metric == metric, runs.c.period == period)
        ).first()
    return found is not None
