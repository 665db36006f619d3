"""The customers behind a number: one warehouse query per cause, declared columns only.

For an entity metric (churn, returning, retention) the customers behind a cause are
those of the cause's segment who were active in the metric's *before* window and not
in its *after* window of the evaluated period:

=========  ================================  ============================
kind       before (counted)                  after (came back)
=========  ================================  ============================
churn      [E - 2·window, E - window)         [E - window, E)
returning  [P - lookback, P)                  [P, E)
retention  [P, E)                             [E, E + window)
=========  ================================  ============================

(P, E: start and end of the period.) A customer's segment is read as the cube reads
it: from the first event of their last active day in the before window (churn,
returning) or of their first one (retention, whose cube counts the period's first
day), so the list holds exactly the customers the metric counted in that segment.
Only the entity key, ``last_activity`` and the columns declared in metrics.yaml leave
the warehouse; their values come from that same event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import ibis
import ibis.expr.types as ir

from agent.periods import next_bucket
from agent.sources.base import Grain, TableRef
from agent.sources.rows import base_select, dimension

__all__ = ["EXPORT_KINDS", "LAST_ACTIVITY", "CustomerQuery", "build_customers_expr"]

EXPORT_KINDS = ("churn", "returning", "retention")
"""Metric kinds whose customers can be listed."""
LAST_ACTIVITY = "last_activity"
"""The column holding each customer's last event in the before window."""
_DAY, _REF, _LAST = "_cx_day", "_cx_ref", "_cx_last"


@dataclass(frozen=True)
class CustomerQuery:
    """The customers of ``segment`` behind ``metric``'s value for the period at ``period``."""

    metric: str
    kind: str
    source: TableRef
    grain: Grain
    period: date
    segment: dict[str, str]
    columns: tuple[str, ...]
    window: timedelta | None = None
    lookback: timedelta | None = None


def windows(q: CustomerQuery) -> tuple[date, date, date]:
    """(start of before, end of before = start of after, end of after)."""
    end = next_bucket(q.period, q.grain)
    if q.kind == "churn" and q.window is not None:
        return end - 2 * q.window, end - q.window, end
    if q.kind == "returning" and q.lookback is not None:
        return q.period - q.lookback, q.period, end
    if q.kind == "retention" and q.window is not None:
        return q.period, end, end + q.window
    raise ValueError(f"{q.metric}: customers can be listed for kinds {', '.join(EXPORT_KINDS)}")


def _ts(day: date) -> ir.TimestampScalar:
    return ibis.literal(datetime(day.year, day.month, day.day), type="timestamp")


def _dim_name(dim: str) -> str:
    return f"_cx_dim_{dim}"


def build_customers_expr(con: ibis.BaseBackend, q: CustomerQuery) -> ir.Table:
    """One row per customer: the entity key, ``last_activity``, then ``q.columns``."""
    entity, time_col = q.source.entity, q.source.time
    if not entity:
        raise ValueError(f"{q.metric}: listing customers needs the source's 'entity'")
    lo, mid, hi = windows(q)
    t = con.sql(base_select(q.source, con.dialect))
    if not t[time_col].type().is_timestamp():
        t = t.mutate(**{time_col: t[time_col].cast("timestamp")})
    t = t.filter(t[time_col] >= _ts(lo), t[time_col] < _ts(hi))
    before = _reference_events(t.filter(t[time_col] < _ts(mid)), q)
    came_back = t.filter(t[time_col] >= _ts(mid)).select(entity).distinct()
    lost = before.anti_join(came_back, entity)
    return lost.select(entity, LAST_ACTIVITY, *q.columns).order_by(entity)


def _reference_events(t: ir.Table, q: CustomerQuery) -> ir.Table:
    """Per customer: segment and declared columns from the first event of the reference
    day, filtered to ``q.segment``; plus their last event time."""
    entity, time = q.source.entity or "", t[q.source.time]
    per_entity = ibis.window(group_by=entity)
    day = time.truncate("D")
    ref = day.min() if q.kind == "retention" else day.max()
    t = t.mutate(**{_DAY: day, _REF: ref.over(per_entity), _LAST: time.max().over(per_entity)})
    t = t.filter(t[_DAY] == t[_REF])
    time = t[q.source.time]
    dims = {_dim_name(d): dimension(t, d).argmin(time) for d in q.segment}
    cols = {c: t[c].argmin(time) for c in q.columns}
    per = t.group_by(entity).aggregate(**dims, **cols, **{LAST_ACTIVITY: t[_LAST].max()})
    for dim, value in q.segment.items():
        per = per.filter(per[_dim_name(dim)] == value)
    return per
