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
from typing import Any

from sqlalchemy import Connection, Row, delete, select, update

from agent.model import Episode, EpisodeStatus, Explanation, FindingKind, RunResult, Severity
from agent.store import Store, insert_row
from agent.store.identity import merged_segments, recorded, same_incident
from agent.store.keys import segment_key
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
        run_id = insert_row(conn, runs.insert().values(**_run_row(run, how)))
        for explanation in run.explanations:
            ep_id = _upsert_episode(conn, explanation, how.finished_at)
            _insert_finding(conn, run_id, ep_id, explanation)
        _mark_healthy(conn, run.metric, how.finished_at)
    return run_id


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
    """Insert or update the explanation's episode under its id; that id (None when it has
    none). An update never moves the episode back: re-running an older period leaves a
    later state as it was, and an onset only moves earlier."""
    ep = explanation.episode
    if ep is None:
        return None
    finding = explanation.finding
    old = conn.execute(select(episodes).where(episodes.c.id == ep.id)).first()
    values = _episode_row(ep, now) | {
        "peak_score": abs(finding.score),
        "last_value": _number(finding.value),
        "last_expected": _number(finding.expected),
    }
    if old is None:
        conn.execute(episodes.insert().values(id=ep.id, data_late=ep.data_late, **values))
    else:
        conn.execute(update(episodes).where(episodes.c.id == ep.id).values(_kept(old, values)))
    _merge_others(conn, ep)
    return ep.id


def _kept(old: Row[Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` values of a recorded episode, keeping what a replay of an older period or
    of a shorter window cannot know better: the earliest onset and first finding, every
    segment, the worst severity, the largest score, and a later state as it is."""
    values = dict(new)
    values["since"] = min(old.since, new["since"])
    values["first_seen"] = min(old.first_seen or old.since, new["first_seen"])
    values["segments"] = merged_segments(old.segments or [old.segment], new["segments"])
    values["segment"], values["segment_key"] = old.segment, old.segment_key
    values["peak_score"] = max(old.peak_score, new["peak_score"])
    if Severity(old.severity).rank > Severity(new["severity"]).rank:
        values["severity"] = old.severity
    if old.last_seen > new["last_seen"]:
        for column in ("status", "last_seen", "periods", "recovered_at", "last_value"):
            values[column] = getattr(old, column)
        values["last_expected"] = old.last_expected
    return values


def _merge_others(conn: Connection, ep: Episode) -> None:
    """Recorded episodes that a replay now finds to be this one's incident (seen in
    overlapping segments at the same time) are marked ``merged``: one incident, one
    thread."""
    others = [r for r in recorded(conn, ep.metric) if r.id != ep.id and same_incident(r, ep)]
    if others:
        conn.execute(
            update(episodes)
            .where(
                episodes.c.id.in_([r.id for r in others]),
                episodes.c.status.in_(("pending", "new", "ongoing")),
            )
            .values(status="merged")
        )


def _episode_row(ep: Episode, now: datetime) -> dict[str, Any]:
    recovered = ep.status is EpisodeStatus.RECOVERED
    return {
        "metric": ep.metric,
        "segment": dict(ep.segment),
        "segment_key": segment_key(ep.segment),
        "segments": [dict(s) for s in ep.all_segments],
        "status": ep.status.value,
        "direction": ep.direction.value,
        "since": naive(ep.since),
        "first_seen": naive(ep.first_seen or ep.since),
        "last_seen": naive(ep.last_seen),
        "periods": ep.periods,
        "severity": ep.severity.value,
        "recovered_at": naive(ep.last_seen) if recovered else None,
        "updated_at": now,
    }


def _insert_finding(conn: Connection, run_id: int, ep_id: str | None, e: Explanation) -> None:
    f = e.finding
    finding_id = insert_row(
        conn,
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
        ),
    )
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
