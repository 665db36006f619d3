"""What a segment's customers wrote: the text column of its rows, in two windows, capped.

Only the text column leaves the warehouse, and only of the rows in the segment (the
dimension filters are Ibis expressions, never pasted SQL) whose time falls in the window
before or after a change's onset: at most ``cap`` rows per window, the newest (ties by
text, so a rerun reads the same rows), and one count per window of how many there were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import ibis
import ibis.expr.types as ir

from agent.sources.base import TableRef
from agent.sources.rows import base_select, dimension

__all__ = ["TextQuery", "Texts", "build_text_counts", "build_texts_expr"]

Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class TextQuery:
    """The comments of ``segment`` in ``source`` (its ``text`` column) before and after.

    Windows are ``[start, end)`` in the warehouse's local time, like the cube's periods.
    """

    metric: str
    source: TableRef
    text: str
    segment: dict[str, str]
    before: Window
    after: Window
    cap: int


@dataclass(frozen=True)
class Texts:
    """The comments read per window, and how many each window had in all."""

    before: list[str]
    after: list[str]
    total_before: int
    total_after: int


def _ts(moment: datetime) -> ir.TimestampScalar:
    return ibis.literal(moment, type="timestamp")


def _rows(con: ibis.BaseBackend, q: TextQuery) -> ir.Table:
    """The segment's rows with a non-empty text, any time."""
    t = con.sql(base_select(q.source, con.dialect))
    missing = [c for c in (q.text, *q.segment) if c not in t.columns]
    if missing:
        raise ValueError(
            f"{q.metric}: source {q.source.name!r} ({q.source.table}) has no column "
            f"{', '.join(map(repr, missing))} — its comments cannot be read by segment"
        )
    if not t[q.source.time].type().is_timestamp():
        t = t.mutate(**{q.source.time: t[q.source.time].cast("timestamp")})
    text = t[q.text].cast("string")
    conditions = [dimension(t, dim) == value for dim, value in q.segment.items()]
    return t.filter(text.notnull(), text.strip() != "", *conditions)


def _inside(t: ir.Table, q: TextQuery, window: Window) -> ir.Table:
    time = t[q.source.time]
    return t.filter(time >= _ts(window[0]), time < _ts(window[1]))


def build_texts_expr(con: ibis.BaseBackend, q: TextQuery, window: Window) -> ir.Table:
    """One column, ``text``: the newest ``q.cap`` comments of the segment in ``window``."""
    t = _inside(_rows(con, q), q, window)
    text = t[q.text].cast("string")
    newest = t.order_by([t[q.source.time].desc(), text]).limit(q.cap)
    return newest.select(text=newest[q.text].cast("string"))


def build_text_counts(con: ibis.BaseBackend, q: TextQuery) -> ir.Table:
    """One row: ``before`` and ``after``, the segment's comments in each window."""
    t = _rows(con, q)
    time = t[q.source.time]

    def within(window: Window) -> ir.IntegerScalar:
        inside = (time >= _ts(window[0])) & (time < _ts(window[1]))
        return inside.cast("int64").sum()

    return t.aggregate(before=within(q.before), after=within(q.after))
