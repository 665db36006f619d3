"""Silences: "say nothing about this metric (or segment) until then", set from the CLI.

A silence of a metric with no segment covers the metric and all its segments; one with
``channel=app`` covers every episode whose segment includes ``channel=app``. While an
episode is silenced nothing is recorded for it, so when the silence ends (or is lifted)
an episode still going is announced as new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from agent.message import AlertMessage
from agent.model import EpisodeStatus, Note, RunResult, Segment
from agent.notify.outbox import naive_utc
from agent.store import Store, insert_row
from agent.store.schema import silences

__all__ = [
    "Silence",
    "active_silences",
    "add_silence",
    "lift_silence",
    "silence_notes",
    "silenced_by",
]


@dataclass(frozen=True)
class Silence:
    id: int
    metric: str
    segment: Segment
    reason: str
    created_by: str | None
    created_at: datetime
    ends_at: datetime


def add_silence(
    store: Store,
    metric: str,
    segment: Segment,
    *,
    until: datetime,
    reason: str,
    now: datetime,
    created_by: str | None = None,
) -> int:
    with store.transaction() as conn:
        return insert_row(
            conn,
            silences.insert().values(
                metric=metric,
                segment=dict(segment),
                reason=reason,
                created_by=created_by,
                created_at=naive_utc(now),
                ends_at=naive_utc(until),
            ),
        )


def active_silences(store: Store, now: datetime) -> list[Silence]:
    """Silences in force at ``now`` (not ended, not lifted), oldest first."""
    query = (
        select(silences)
        .where(silences.c.ends_at > naive_utc(now), silences.c.lifted_at.is_(None))
        .order_by(silences.c.id)
    )
    with store.engine.connect() as conn:
        return [
            Silence(r.id, r.metric, r.segment, r.reason, r.created_by, r.created_at, r.ends_at)
            for r in conn.execute(query)
        ]


def lift_silence(store: Store, silence_id: int, *, now: datetime) -> bool:
    """End a silence now; False when no silence in force has that id."""
    with store.transaction() as conn:
        done = conn.execute(
            update(silences)
            .where(
                silences.c.id == silence_id,
                silences.c.lifted_at.is_(None),
                silences.c.ends_at > naive_utc(now),
            )
            .values(lifted_at=naive_utc(now))
        )
    return bool(done.rowcount)


def silenced_by(msg: AlertMessage, active: list[Silence]) -> Silence | None:
    return next((s for s in active if _covers(s, msg.metric, msg.segment)), None)


def _covers(silence: Silence, metric: str, segment: Segment) -> bool:
    return silence.metric == metric and silence.segment.items() <= segment.items()


def silence_notes(run: RunResult, active: list[Silence], timezone: str) -> list[Note]:
    """Why a run's alerts will not be sent: one note per alerted segment a silence covers
    (``Not sent: channel=app is silenced until …``), so the report does not leave the
    reader wondering where the alert went."""
    notes: list[Note] = []
    seen: set[int] = set()
    for e in run.explanations:
        if e.episode is None or e.episode.status not in (EpisodeStatus.NEW, EpisodeStatus.ONGOING):
            continue
        for silence in active:
            covers = (
                silence.metric == run.metric
                and silence.segment.items() <= e.finding.segment.items()
            )
            if covers and silence.id not in seen:
                seen.add(silence.id)
                notes.append(_silenced(silence, e.finding.segment, timezone))
    return notes


def _silenced(silence: Silence, segment: Segment, timezone: str) -> Note:
    until = silence.ends_at.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone))
    named: str | Note = " & ".join(f"{k}={v}" for k, v in segment.items()) or Note("all_customers")
    return Note("note_silenced", {"segment": named, "until": until, "text": silence.reason})
