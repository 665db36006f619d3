"""Metric kind -> one aggregate Ibis expression (the cube), portable across warehouses.

Every kind reduces to ``num`` and ``den`` per (period, dimension leaf), so that any
slice's value is ``sum(num) / sum(den)`` (rates) or ``sum(num)`` (count, sum). Ratio
numerators and denominators are *row* expressions summed per leaf: sums stay additive
across leaves, whereas an aggregate such as ``count(distinct x)`` would not.

The user's raw SQL (table, ``filter:``, row expressions, ``kind: sql`` queries) enters
through ``con.sql`` in the warehouse dialect; everything on top of it is Ibis, so the
same builder compiles for DuckDB, Postgres and the other Ibis backends. Only the
aggregated cube leaves the warehouse.

Entity kinds (returning, retention, churn, mix) first reduce events to entity-days
(one row per entity and day, each dimension taken from the entity's first event of
that day) and use window functions over each entity's days; no Python loops.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd
from ibis.expr.builders import LegacyWindowBuilder

from agent.cube import OTHER
from agent.sources.base import CubeQuery, Grain, TableRef

__all__ = ["NONE", "base_select", "build_cube_expr", "bucket_start", "next_bucket", "user_sql"]

NONE = "(none)"

_UNIT = {"day": "D", "week": "W", "month": "M"}
# internal column names, prefixed so they never meet a user's column
_ENTITY = "_cx_entity"
_DAY = "_cx_day"
_NUM = "_cx_num"
_DEN = "_cx_den"
_CAT = "_cx_cat"
_END = "_cx_end"


def bucket_start(day: date, grain: Grain) -> date:
    """Start of the grain bucket holding ``day`` (ISO weeks start on Monday)."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if grain == "month" else day


def next_bucket(start: date, grain: Grain) -> date:
    """Start of the bucket after the one starting at ``start``."""
    if grain == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=7 if grain == "week" else 1)


def base_select(ref: TableRef, columns: Mapping[str, str] | None = None) -> str:
    """The raw SQL reading a source: its table, its filter, plus named row expressions."""
    extra = "".join(f", ({sql}) AS {name}" for name, sql in (columns or {}).items())
    where = f" WHERE ({ref.filter})" if ref.filter else ""
    return f"SELECT *{extra} FROM {ref.table}{where}"


def user_sql(q: CubeQuery) -> str:
    """The user-written SQL a query runs, the usual culprit when the warehouse refuses it."""
    return (q.sql or "") if q.kind == "sql" else base_select(q.source, _row_columns(q))


def build_cube_expr(con: ibis.BaseBackend, q: CubeQuery) -> ir.Table:
    """The whole cube of ``q``: ``period``, one string column per dimension, ``num``, ``den``.

    Periods run from the bucket holding ``q.start`` to the bucket holding ``q.end``;
    dimension values past the ``q.top_n`` largest (by total ``den``) fold into OTHER.
    Building needs the warehouse only to read the schema of the user's SQL.
    """
    leaves = _KINDS[q.kind](con, q)
    return _finish(leaves, q)


def _row_columns(q: CubeQuery) -> dict[str, str]:
    """Named row expressions each kind needs projected next to the source's columns."""
    if q.kind in ("count", "sum"):
        if q.kind == "sum" and not q.expr:
            raise ValueError(f"{q.metric}: kind 'sum' needs 'expr'")
        return {_NUM: q.expr or "1"}
    if q.kind == "ratio":
        if not (q.numerator and q.denominator):
            raise ValueError(f"{q.metric}: kind 'ratio' needs 'numerator' and 'denominator'")
        return {_NUM: q.numerator, _DEN: q.denominator}
    if q.kind == "mix":
        if not q.category:
            raise ValueError(f"{q.metric}: kind 'mix' needs 'category'")
        return {_CAT: f"CASE WHEN ({q.category}) THEN 1 ELSE 0 END"}
    return {}


def _ts(day: date) -> ir.TimestampScalar:
    return ibis.literal(datetime(day.year, day.month, day.day), type="timestamp")


def _span(q: CubeQuery) -> tuple[date, date]:
    """First period start and the end (exclusive) of the last period."""
    first = bucket_start(q.start, q.grain)
    return first, next_bucket(bucket_start(q.end, q.grain), q.grain)


def _step(grain: Grain) -> ir.IntervalScalar:
    return {"day": ibis.interval(days=1), "week": ibis.interval(weeks=1)}.get(
        grain, ibis.interval(months=1)
    )


def _need(value: timedelta | None, what: str, q: CubeQuery) -> timedelta:
    if value is None:
        raise ValueError(f"{q.metric}: kind {q.kind!r} needs {what!r}")
    return value


def _rows(con: ibis.BaseBackend, q: CubeQuery, lo: date, hi: date) -> ir.Table:
    """The source's rows with time in [lo, hi), the time column as a timestamp."""
    t = con.sql(base_select(q.source, _row_columns(q)))
    time = t[q.source.time]
    if not time.type().is_timestamp():  # a DATE column; a no-op cast would hinder pruning
        t = t.mutate(**{q.source.time: time.cast("timestamp")})
    return t.filter(t[q.source.time] >= _ts(lo), t[q.source.time] < _ts(hi))


def _dim(t: ir.Table, name: str) -> ir.StringColumn:
    return t[name].cast("string").fill_null(NONE)


def _leaves(t: ir.Table, q: CubeQuery, num: ir.NumericValue, den: ir.NumericValue) -> ir.Table:
    """Sum per-row ``num``/``den`` into one row per (period, leaf)."""
    t = t.mutate(**{_NUM: num, _DEN: den})
    return t.group_by(["period", *q.dimensions]).aggregate(num=t[_NUM].sum(), den=t[_DEN].sum())


def _additive(con: ibis.BaseBackend, q: CubeQuery) -> ir.Table:
    """count / sum / ratio: sums of row expressions (den = row count unless ratio)."""
    t = _rows(con, q, *_span(q))
    period = t[q.source.time].truncate(_UNIT[q.grain])
    t = t.mutate(period=period, **{d: _dim(t, d) for d in q.dimensions})
    den = t[_DEN] if q.kind == "ratio" else ibis.literal(1)
    return _leaves(t, q, t[_NUM], den)


def _entity_days(
    con: ibis.BaseBackend, q: CubeQuery, lo: date, hi: date, extra: tuple[str, ...] = ()
) -> ir.Table:
    """One row per (entity, day); dimensions (and ``extra``) from the day's first event."""
    if not q.source.entity:
        raise ValueError(f"{q.metric}: kind {q.kind!r} needs the source's 'entity'")
    t = _rows(con, q, lo, hi)
    time = t[q.source.time]
    firsts = {d: _dim(t, d).argmin(time) for d in q.dimensions}
    firsts |= {c: t[c].argmin(time) for c in extra}
    keys = {_ENTITY: t[q.source.entity], _DAY: time.truncate("D")}
    days = t.group_by(**keys).aggregate(**firsts)
    return days.mutate(period=days[_DAY].truncate(_UNIT[q.grain]))


def _per_entity_period(days: ir.Table, q: CubeQuery, **aggs: ir.Value) -> ir.Table:
    """One row per (entity, period) in range, dimensions from its first active day."""
    firsts = {d: days[d].argmin(days[_DAY]) for d in q.dimensions}
    ep = days.group_by([_ENTITY, "period"]).aggregate(**firsts, **aggs)
    return ep.filter(ep.period >= _ts(_span(q)[0]))


def _by_entity() -> LegacyWindowBuilder:
    return ibis.window(group_by=_ENTITY, order_by=_DAY)


def _returning(con: ibis.BaseBackend, q: CubeQuery) -> ir.Table:
    """Active entities (den) also active in [period - lookback, period) (num).

    The min of lag(day) over the entity's days in a period is the lag of its first day.
    """
    lookback = _need(q.lookback, "lookback", q)
    first, end = _span(q)
    days = _entity_days(con, q, first - lookback, end)
    days = days.mutate(prev=days[_DAY].lag().over(_by_entity()))
    ep = _per_entity_period(days, q, prev=days.prev.min())
    hit = (ep.prev < ep.period) & (ep.prev >= ep.period - ibis.interval(lookback))
    return _leaves(ep, q, ibis.ifelse(hit, 1, 0), ibis.literal(1))


def _retention(con: ibis.BaseBackend, q: CubeQuery) -> ir.Table:
    """Active entities (den) active again in [period_end, period_end + window) (num).

    The max of lead(day) over the entity's days in a period is the next activity after
    its last day. Immature periods are returned too; maturity is the caller's business.
    """
    window = _need(q.window, "window", q)
    first, end = _span(q)
    days = _entity_days(con, q, first, end + window)
    days = days.mutate(nxt=days[_DAY].lead().over(_by_entity()))
    ep = _per_entity_period(days, q, nxt=days.nxt.max())
    ep = ep.filter(ep.period < _ts(end))
    period_end = ep.period + _step(q.grain)
    hit = (ep.nxt >= period_end) & (ep.nxt < period_end + ibis.interval(window))
    return _leaves(ep, q, ibis.ifelse(hit, 1, 0), ibis.literal(1))


def _mix(con: ibis.BaseBackend, q: CubeQuery) -> ir.Table:
    """Active entities (den) in the category on their first active day of the period (num)."""
    days = _entity_days(con, q, *_span(q), extra=(_CAT,))
    ep = _per_entity_period(days, q, cat=days[_CAT].argmin(days[_DAY]))
    return _leaves(ep, q, ep.cat, ibis.literal(1))


def _calendar(q: CubeQuery) -> ir.Table:
    """A small table of the periods in range and their ends (start of the next bucket)."""
    start, end = _span(q)
    starts = [start]
    while (start := next_bucket(start, q.grain)) < end:
        starts.append(start)
    ends = [next_bucket(s, q.grain) for s in starts]
    return ibis.memtable({"period": pd.to_datetime(starts), _END: pd.to_datetime(ends)})


def _churn(con: ibis.BaseBackend, q: CubeQuery) -> ir.Table:
    """For period end E: entities active in [E-2W, E-W) (den), none in [E-W, E) (num).

    An entity-day d with next activity n is the entity's last day before E-W exactly
    when d + W < E <= n + W (n null = never); it is in the population when also
    E <= d + 2W, and lapsed when E <= n (or n null). Dimensions come from day d.
    """
    w = _need(q.window, "window", q)
    first, end = _span(q)
    days = _entity_days(con, q, first - 2 * w, end).drop("period")
    days = days.mutate(nxt=days[_DAY].lead().over(_by_entity()))
    cal, win = _calendar(q), ibis.interval(w)
    e, d, n = cal[_END], days[_DAY], days.nxt
    joined = days.join(
        cal, [e > d + win, e <= d + ibis.interval(2 * w), n.isnull() | (e <= n + win)]
    )
    lapsed = ibis.ifelse(n.isnull() | (e <= n), 1, 0)
    rows = joined.select("period", *q.dimensions, lapsed=lapsed)
    return _leaves(rows, q, rows.lapsed, ibis.literal(1))


def _user_query(con: ibis.BaseBackend, q: CubeQuery) -> ir.Table:
    """``kind: sql``: the user's query returning period, dimensions, num, den."""
    if not q.sql:
        raise ValueError(f"{q.metric}: kind 'sql' needs 'sql'")
    t = con.sql(q.sql)
    t = t.mutate(period=t.period.cast("timestamp"))
    first, end = _span(q)
    t = t.filter(t.period >= _ts(first), t.period < _ts(end))
    dims = {d: _dim(t, d) for d in q.dimensions}
    return t.select("period", num=t.num.cast("float64"), den=t.den.cast("float64"), **dims)


def _fold(cube: ir.Table, dim: str, top_n: int) -> ir.StringColumn:
    """``dim`` with values outside its ``top_n`` largest (total den) replaced by OTHER."""
    vol = cube.group_by(dim).aggregate(_cx_vol=cube.den.sum())
    rank = ibis.row_number().over(order_by=[ibis.desc("_cx_vol"), dim])
    top = vol.mutate(_cx_rank=rank).filter(lambda v: v._cx_rank < top_n)
    return ibis.ifelse(cube[dim].isin(top[dim]), cube[dim], OTHER)


def _finish(leaves: ir.Table, q: CubeQuery) -> ir.Table:
    """Fold each dimension's tail into OTHER, re-aggregate, cast num/den to float64."""
    folded = leaves.mutate(**{d: _fold(leaves, d, q.top_n) for d in q.dimensions})
    cube = folded.group_by(["period", *q.dimensions]).aggregate(
        num=folded.num.sum().fill_null(0).cast("float64"),
        den=folded.den.sum().fill_null(0).cast("float64"),
    )
    return cube.order_by(["period", *q.dimensions])


_KINDS: dict[str, Callable[[ibis.BaseBackend, CubeQuery], ir.Table]] = {
    "count": _additive,
    "sum": _additive,
    "ratio": _additive,
    "returning": _returning,
    "retention": _retention,
    "churn": _churn,
    "mix": _mix,
    "sql": _user_query,
}
