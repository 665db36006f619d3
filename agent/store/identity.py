"""Which recorded incident a replayed episode is: the id an episode keeps for good.

A run rebuilds its episodes by replaying the weeks before its period
(``agent.pipeline.metric_run``), so it knows them only by provisional names, and a later
run may date an onset earlier or see the incident in one more segment. The store is
where an incident keeps its name: a replayed episode is the recorded one that shares a
segment with it, is of the same kind (late data or not) and overlaps it in time — from
its first finding to its recovery, or to its last finding while open. Anything else is a
new incident, numbered after the metric's others (``premium_churn#3``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from agent.model import Episode, Segment
from agent.store import Store
from agent.store.keys import episode_id, episode_number, segment_key
from agent.store.schema import episodes

__all__ = ["Recorded", "identify", "merged_segments", "recorded", "same_incident"]


@dataclass(frozen=True)
class Recorded:
    """What identity needs of a recorded episode."""

    id: str
    segment_keys: frozenset[str]
    data_late: bool
    first: datetime
    """Its first finding (its onset for episodes recorded before schema 3)."""
    last: datetime
    """The period it recovered in, else its last finding."""


def identify(store: Store, metric: str, found: Iterable[Episode]) -> dict[str, str]:
    """The lasting id of each of ``found`` (replayed episodes of one run of ``metric``), by
    provisional id: a recorded incident's, else a new number."""
    with store.engine.connect() as conn:
        known = recorded(conn, metric)
    taken: set[str] = set()
    number = max((episode_number(metric, r.id) for r in known), default=0)
    ids: dict[str, str] = {}
    for ep in sorted({e.id: e for e in found}.values(), key=_start):
        match = next((r for r in known if r.id not in taken and same_incident(r, ep)), None)
        if match is None:
            number += 1
            ids[ep.id] = episode_id(metric, number)
        else:
            ids[ep.id] = match.id
            taken.add(match.id)
    return ids


def recorded(conn: Connection, metric: str) -> list[Recorded]:
    """The recorded episodes of ``metric`` that may still be matched, oldest first."""
    e = episodes.c
    rows = conn.execute(
        select(
            e.id,
            e.segment,
            e.segments,
            e.data_late,
            e.since,
            e.first_seen,
            e.last_seen,
            e.recovered_at,
        )
        .where(e.metric == metric, e.status != "merged")
        .order_by(e.first_seen, e.since, e.id)
    ).all()
    return [
        Recorded(
            id=row.id,
            segment_keys=frozenset(segment_key(s) for s in row.segments or [row.segment]),
            data_late=bool(row.data_late),
            first=row.first_seen or row.since,
            last=row.recovered_at or row.last_seen,
        )
        for row in rows
    ]


def same_incident(known: Recorded, ep: Episode) -> bool:
    """Whether the replayed ``ep`` is the recorded incident ``known``."""
    keys = {segment_key(s) for s in ep.all_segments}
    start, end = _naive(_start(ep)), _naive(ep.last_seen)
    return (
        known.data_late == ep.data_late
        and bool(keys & known.segment_keys)
        and known.first <= end
        and start <= known.last
    )


def _start(ep: Episode) -> datetime:
    return ep.first_seen or ep.since


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def merged_segments(old: list[Segment] | None, new: Iterable[Segment]) -> list[Segment]:
    """Every segment of an incident, as recorded then as seen now, in order of appearance."""
    out: list[Segment] = [dict(s) for s in old or []]
    for seg in new:
        if dict(seg) not in out:
            out.append(dict(seg))
    return out
