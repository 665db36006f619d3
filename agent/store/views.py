"""The store as the console shows it: ``cx-agent status`` and ``cx-agent history``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from agent.store.keys import segment_key
from agent.store.queries import EpisodeRow, MetricStatus

__all__ = ["history_lines", "status_lines"]


def status_lines(rows: list[MetricStatus], timezone: str) -> Iterator[str]:
    """A table of the metrics, then one ``STUCK`` line per thing that needs a person."""
    yield (
        f"{'metric':<24} {'last run':<11} {'result':<18} {'next run':<17} {'open':>4}  deliveries"
    )
    for row in rows:
        yield (
            f"{row.metric:<24} {_day(row.last_period):<11} {_result(row):<18} "
            f"{_next(row.next_run, timezone):<17} {row.open_episodes:>4}  "
            f"{row.pending_deliveries} pending, {row.failed_deliveries} failed"
        )
    zone = ZoneInfo(timezone)
    for row in rows:
        if row.last_failure is not None and not row.failures:
            when = _moment(row.last_failure, zone)
            yield f"{row.metric}: last failed {when} ({row.failed_in}): {row.last_error}"
    stuck = [(row.metric, reason) for row in rows for reason in row.reasons(zone)]
    for metric, reason in stuck:
        yield f"STUCK {metric}: {reason}"
    if not stuck:
        yield "Nothing is stuck."


def history_lines(metric: str, rows: list[EpisodeRow]) -> Iterator[str]:
    """One line per episode: its id (for ``cx-agent feedback``), when, how long, where,
    which way, how bad, and its state."""
    if not rows:
        yield f"{metric}: no episodes recorded yet"
        return
    width = max(len("id"), *(len(e.id) for e in rows))
    yield (
        f"{'id':<{width}} {'since':<11} {'last seen':<11} {'periods':>7}  {'status':<10} "
        f"{'severity':<9} segments"
    )
    for e in rows:
        keys = [segment_key(s) for s in e.segments] if e.segments else [e.segment_key]
        segments = ", ".join(k or "all customers" for k in keys)
        yield (
            f"{e.id:<{width}} {_day(e.since):<11} {_day(e.last_seen):<11} {e.periods:>7}  "
            f"{e.status:<10} {e.severity:<9} {segments} ({e.direction})"
        )


def _day(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d}"


def _moment(naive_utc: datetime, zone: ZoneInfo) -> str:
    return f"{naive_utc.replace(tzinfo=UTC).astimezone(zone):%Y-%m-%d %H:%M %Z}"


def _result(row: MetricStatus) -> str:
    if row.failures:
        return f"failed ({row.failures}x)" if row.failures > 1 else "failed"
    if row.last_status is None:
        return "never run"
    return row.last_status + (f" ({row.last_severity})" if row.last_severity else "")


def _next(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return "not scheduled"
    return f"{moment.astimezone(ZoneInfo(timezone)):%Y-%m-%d %H:%M}"
