"""Write what a run found: the run row, its findings and causes, its episodes, in one go.

``record_run`` is the only writer of runs, findings, causes and episodes. It works in
one transaction, so a run killed half-way leaves the store as it was before it. A run
is keyed by (metric, period): recording a period again deletes its run row first (its
findings and causes go with it, ``ON DELETE CASCADE``), so nothing is duplicated.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, date, datetime
from enum import Enum

from sqlalchemy import Connection, delete, select, update

from agent.model import Episode, EpisodeStatus, Explanation, FindingKind, RunResult
from agent.store import Store
from agent.store.keys import episode_id, segment_key
from agent.store.schema import causes, episodes, findings, job_health, runs

__all__ = [
    "RunRecord",
    "naive",
    "plain",
    "record_failure",
    "record_run",
    "record_success",
    "utcnow",
]


def utcnow() -> datetime:
    """Now as the store keeps instants: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def naive(moment: datetime) -> datetime:
    """A period as stored: the naive start of its bucket in the metric's timezone (as in
    the cube), so ``2026-11-20`` reads as that day wherever the store is looked at."""
    return moment.replace(tzinfo=None)


@dataclass(frozen=True)
class RunRecord:
    """How a run went, next to what it found."""

    started_at: datetime
    finished_at: datetime
    report_path: str | None = None
    """The HTML report, relative to the reports directory (None when none was written)."""


def record_run(store: Store, run: RunResult, how: RunRecord) -> int:
    """Record ``run`` whole (replacing an earlier run of the same period); return its id."""
    with store.transaction() as conn:
        conn.execute(
            delete(runs).where(runs.c.metric == run.metric, runs.c.period == naive(run.period))
        )
        run_id = conn.execute(runs.insert().values(**_run_row(run, how))).inserted_primary_key[0]
        for explanation in run.explanations:
            ep_id = _upsert_episode(conn, explanation, how.finished_at)
            _insert_finding(conn, run_id, ep_id, explanation)
        _mark_healthy(conn, run.metric, how.finished_at)
    return int(run_id)


def record_failure(store: Store, metric: str, error: str, when: datetime, by: str = "serve") -> int:
    """Count one more failed run of ``metric`` in a row (``by``: the command that ran it);
    return how many in a row now."""
    with store.transaction() as conn:
        row = conn.execute(
            select(job_health.c.failures).where(job_health.c.metric == metric)
        ).first()
        failures = (row[0] if row else 0) + 1
        values = {
            "failures": failures,
            "last_error": error[:2000],
            "last_attempt": when,
            "last_failure": when,
            "failed_in": by,
        }
        if row:
            conn.execute(update(job_health).where(job_health.c.metric == metric).values(values))
        else:
            conn.execute(job_health.insert().values(metric=metric, **values))
    return failures


def record_success(store: Store, metric: str, when: datetime) -> None:
    """A run of ``metric`` that went well but records no period (a backfill)."""
    with store.transaction() as conn:
        _mark_healthy(conn, metric, when)


def _mark_healthy(conn: Connection, metric: str, when: datetime) -> None:
    """No failure in a row any more; the last one (error, time) stays on record."""
    values = {"failures": 0, "last_attempt": when, "last_success": when}
    done = conn.execute(update(job_health).where(job_health.c.metric == metric).values(values))
    if not done.rowcount:
        conn.execute(job_health.insert().values(metric=metric, **values))


def _run_row(run: RunResult, how: RunRecord) -> dict[str, object]:
    kinds = {e.finding.kind for e in run.explanations}
    if FindingKind.LATE_DATA in kinds:
        status = "late"
    else:
        status = "findings" if kinds - {FindingKind.RECOVERED} else "ok"
    return {
        "metric": run.metric,
        "period": naive(run.period),
        "status": status,
        "severity": run.severity.value if run.severity else None,
        "value": run.value,
        "started_at": how.started_at,
        "finished_at": how.finished_at,
        "report_path": how.report_path,
        "notes": plain(list(run.notes)),
    }


def _upsert_episode(conn: Connection, explanation: Explanation, now: datetime) -> str | None:
    """Insert or update the explanation's episode; its id (None when it has none)."""
    ep = explanation.episode
    if ep is None:
        return None
    finding = explanation.finding
    key = episode_id(ep.metric, ep.segment, ep.since)
    old = conn.execute(select(episodes.c.peak_score).where(episodes.c.id == key)).first()
    values = _episode_row(ep, now) | {
        "peak_score": max(abs(finding.score), old[0] if old else 0.0),
        "last_value": _number(finding.value),
        "last_expected": _number(finding.expected),
    }
    if old:
        conn.execute(update(episodes).where(episodes.c.id == key).values(values))
    else:
        late = finding.kind is FindingKind.LATE_DATA
        conn.execute(episodes.insert().values(id=key, data_late=late, **values))
        _merge_later_starts(conn, key, values, late)
    return key


def _merge_later_starts(conn: Connection, key: str, values: dict[str, object], late: bool) -> None:
    """An episode can turn out to have begun earlier than first thought (its ``since``
    moves back, and with it its id): the open episode recorded under the later start is
    the same story, and is marked ``merged`` rather than left open for ever."""
    e = episodes.c
    conn.execute(
        update(episodes)
        .where(
            e.metric == values["metric"],
            e.segment_key == values["segment_key"],
            e.direction == values["direction"],
            e.data_late == late,
            e.id != key,
            e.status.in_(("pending", "new", "ongoing")),
            e.since > values["since"],
            e.since <= values["last_seen"],
        )
        .values(status="merged", updated_at=values["updated_at"])
    )


def _episode_row(ep: Episode, now: datetime) -> dict[str, object]:
    recovered = ep.status is EpisodeStatus.RECOVERED
    return {
        "metric": ep.metric,
        "segment": dict(ep.segment),
        "segment_key": segment_key(ep.segment),
        "status": ep.status.value,
        "direction": ep.direction.value,
        "since": naive(ep.since),
        "last_seen": naive(ep.last_seen),
        "periods": ep.periods,
        "severity": ep.severity.value,
        "recovered_at": naive(ep.last_seen) if recovered else None,
        "updated_at": now,
    }


def _insert_finding(conn: Connection, run_id: int, ep_id: str | None, e: Explanation) -> None:
    f = e.finding
    finding_id = conn.execute(
        findings.insert().values(
            run_id=run_id,
            episode_id=ep_id,
            metric=f.metric,
            period=naive(f.period),
            segment=dict(f.segment),
            kind=f.kind.value,
            value=_number(f.value),
            expected=_number(f.expected),
            lower=f.lower,
            upper=f.upper,
            direction=f.direction.value,
            severity=f.severity.value,
            score=f.score,
            since=naive(f.since),
            reason=f.reason if isinstance(f.reason, str) else json.dumps(plain(f.reason)),
            explained_share=e.explained_share,
        )
    ).inserted_primary_key[0]
    rows = [
        {
            "finding_id": finding_id,
            "rank": rank,
            "segment": dict(c.segment),
            "share": c.share,
            "value_before": c.value_before,
            "value_after": c.value_after,
            "size_before": c.size_before,
            "size_after": c.size_after,
            "rate_effect": c.rate_effect,
            "mix_effect": c.mix_effect,
            "confidence": c.confidence,
        }
        for rank, c in enumerate(e.causes, start=1)
    ]
    if rows:
        conn.execute(causes.insert(), rows)


def _number(value: float) -> float | None:
    """NaN (no value in that period) is stored as NULL."""
    return None if math.isnan(value) else value


def plain(value: object) -> object:
    """``value`` as JSON: dataclasses (notes) as objects, dates in ISO, NaN and ∞ as null."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
