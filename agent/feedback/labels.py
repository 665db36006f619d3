"""The team's verdicts on alerts, kept in the store's ``feedback`` table.

A verdict is about one episode (one alert and its updates): ``true`` (a real problem),
``false`` (a false alarm) or ``expected`` (real, but planned — a campaign, a price
change — optionally for a date range). Each episode's latest verdict counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeGuard, get_args

from sqlalchemy import Connection, Row, select

from agent.errors import AgentError
from agent.model import Direction, Segment
from agent.store import Store
from agent.store.schema import episodes, feedback

__all__ = [
    "LABELS",
    "ExpectedWindow",
    "FalseAlarm",
    "Label",
    "UnknownEpisode",
    "expected_windows",
    "false_alarms",
    "record_label",
]

Label = Literal["true", "false", "expected"]
LABELS: tuple[str, ...] = get_args(Label)


def is_label(value: str) -> TypeGuard[Label]:
    return value in LABELS


class UnknownEpisode(AgentError, LookupError):
    """No episode with that id is in the store."""


@dataclass(frozen=True)
class FalseAlarm:
    """An episode the team marked false, with the size of the move it alerted on."""

    episode_id: str
    segment: Segment
    shift: float | None
    """|last value − expected| of the episode, in metric units; None when not recorded."""


@dataclass(frozen=True)
class ExpectedWindow:
    """A planned move: findings of ``segment`` in ``direction`` from ``start`` to ``end``
    (inclusive) are expected and not alerted."""

    segment: Segment
    direction: Direction
    start: date
    end: date
    note: str


def record_label(
    store: Store,
    episode_id: str,
    label: str,
    *,
    note: str | None = None,
    window: tuple[date, date] | None = None,
    now: datetime | None = None,
    once: bool = False,
) -> str:
    """Store a verdict on ``episode_id``; return the metric it belongs to.

    With ``once`` (a feedback link, whose token stands for one verdict on one episode),
    a verdict already recorded with that label is not recorded again: sending the same
    form twice, or a replayed request, changes nothing.
    """
    if not is_label(label):
        raise ValueError(f"label {label!r}: use one of {', '.join(LABELS)}")
    if window is not None and window[1] < window[0]:
        raise ValueError(f"the window ends ({window[1]}) before it starts ({window[0]})")
    with store.transaction() as conn:
        row = conn.execute(select(episodes.c.metric).where(episodes.c.id == episode_id)).first()
        if row is None:
            raise UnknownEpisode(episode_id)
        if once and _has_label(conn, episode_id, label):
            return str(row.metric)
        starts, ends = window or (None, None)
        conn.execute(
            feedback.insert().values(
                episode_id=episode_id,
                metric=row.metric,
                label=label,
                note=note,
                starts_on=_midnight(starts),
                ends_on=_midnight(ends),
                created_at=(now or datetime.now(UTC)).replace(tzinfo=None),
            )
        )
    return str(row.metric)


def _has_label(conn: Connection, episode_id: str, label: str) -> bool:
    query = select(feedback.c.id).where(
        feedback.c.episode_id == episode_id, feedback.c.label == label
    )
    return conn.execute(query.limit(1)).first() is not None


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day)


def _latest(store: Store, metric: str, label: Label) -> list[Row[*tuple[Any, ...]]]:
    """The feedback rows of ``metric`` that are their episode's latest verdict and read
    ``label``, joined with their episode."""
    query = (
        select(feedback, episodes.c.segment, episodes.c.direction, episodes.c.since)
        .add_columns(episodes.c.segments)
        .add_columns(episodes.c.last_value, episodes.c.last_expected)
        .join(episodes, episodes.c.id == feedback.c.episode_id)
        .where(feedback.c.metric == metric)
        .order_by(feedback.c.created_at, feedback.c.id)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    latest = {row.episode_id: row for row in rows}
    return [row for row in latest.values() if row.label == label]


def false_alarms(store: Store, metric: str) -> list[FalseAlarm]:
    """Episodes of ``metric`` whose latest verdict is ``false``, oldest verdict first."""
    return [
        FalseAlarm(row.episode_id, dict(row.segment), _shift(row.last_value, row.last_expected))
        for row in _latest(store, metric, "false")
    ]


def _shift(value: float | None, expected: float | None) -> float | None:
    return None if value is None or expected is None else abs(value - expected)


def expected_windows(store: Store, metric: str) -> list[ExpectedWindow]:
    """Planned moves of ``metric``: ``expected`` verdicts, over their date range or, when
    none was given, from the episode's first period to the day of the verdict; one window
    per segment the incident showed in."""
    return [
        ExpectedWindow(
            segment=dict(segment),
            direction=Direction(row.direction),
            start=(row.starts_on or row.since).date(),
            end=(row.ends_on or row.created_at).date(),
            note=row.note or "",
        )
        for row in _latest(store, metric, "expected")
        for segment in row.segments or [row.segment]
    ]
