"""Metric kind -> one aggregate Ibis expression (the cube), portable across warehouses.

Every kind reduces to ``num`` and ``den`` per (period, dimension leaf), so that any
slice's value is ``sum(num) / sum(den)`` (rates) or ``sum(num)`` (count, sum). Ratio
numerators and denominators are *row* expressions summed per leaf: sums stay additive
across leaves, whereas an aggregate such as ``count(distinct x)`` would not.

The user's raw SQL (table, ``filter:``, row expressions, ``kind: sql`` queries) enters
through ``con.sql`` in the warehouse dialect; everything on top of it is Ibis, so the
same builder compiles for DuckDB, Postgres and the other Ibis backends. Only the
aggregated cube leaves the warehouse.

Entity kinds (returning, retention, mix) reduce events to one row per (entity, period)
in one aggregation, each dimension taken from the entity's first event of the period,
then use at most one window function over each entity's periods. Churn, whose windows
count in days, does the same over entity-days and turns each day's membership of the
population into a run of periods summed per leaf. One query per metric, no loops in
Python, and the work grows with the events scanned.
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
_NumLike = int | ir.IntegerValue

_UNIT = {"day": "D", "week": "W", "month": "M"}
# internal column names, prefixed so they never meet a user's column
_ENTITY = "_cx_entity"
_DAY = "_cx_day"
_NUM = "_cx_num"
_DEN = "_cx_den"
_CAT = "_cx_cat"
_FIRST = "_cx_first"
_LAST = "_cx_last"


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
    # a week as 7 days: Trino has no WEEK interval unit
    return {"day": ibis.interval(days=1), "week": ibis.interval(days=7)}.get(
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


def _entity_rows(con: ibis.BaseBackend, q: CubeQuery, lo: date, hi: date) -> ir.Table:
    if not q.source.entity:
        raise ValueError(f"{q.metric}: kind {q.kind!r} needs the source's 'entity'")
    return _rows(con, q, lo, hi)


def _entity_days(con: ibis.BaseBackend, q: CubeQuery, lo: date, hi: date) -> ir.Table:
    """One row per (entity, day); dimensions from the day's first event."""
    t = _entity_rows(con, q, lo, hi)
    time = t[q.source.time]
    firsts = {d: _dim(t, d).argmin(time) for d in q.dimensions}
    return t.group_by(**{_ENTITY: t[q.source.entity], _DAY: time.truncate("D")}).aggregate(**firsts)


def _entity_periods(
    con: ibis.BaseBackend, q: CubeQuery, lo: date, hi: date, **aggs: ir.Value
) -> ir.Table:
    """One row per (entity, period) from the events in [lo, hi), in one aggregation.

    Dimensions come from the entity's first event of the period; ``_FIRST`` and
    ``_LAST`` are its first and last active days. ``aggs`` map a name to a row
    expression of the source whose value at that first event is wanted.
    """
    t = _entity_rows(con, q, lo, hi)
    time = t[q.source.time]
    firsts = {d: _dim(t, d).argmin(time) for d in q.dimensions}
    firsts |= {name: t[col].argmin(time) for name, col in aggs.items()}
    keys = {_ENTITY: t[q.source.entity], "period": time.truncate(_UNIT[q.grain])}
    ep = t.group_by(**keys).aggregate(**firsts, **{_FIRST: time.min(), _LAST: time.max()})
    return ep.mutate(**{c: ep[c].truncate("D") for c in (_FIRST, _LAST)})


def _in_range(ep: ir.Table, q: CubeQuery) -> ir.Table:
    first, end = _span(q)
    return ep.filter(ep.period >= _ts(first), ep.period < _ts(end))


def _by_entity(order_by: str) -> LegacyWindowBuilder:
    return ibis.window(group_by=_ENTITY, order_by=order_by)


def _returning(con: ibis.BaseBackend, q: CubeQuery) -> ir.Table:
    """Active entities (den) also active in [period - lookback, period) (num).

    The entity's last activity before a period is the last day of its previous
    active period, so one aggregation per (entity, period) and one lag suffice.
    """
    lookback = _need(q.lookback, "lookback", q)
    first, end = _span(q)
    ep = _entity_periods(con, q, first - lookback, end)
    ep = _in_range(ep.mutate(prev=ep[_LAST].lag().over(_by_entity("period"))), q)
    hit = ep.prev >= ep.period - ibis.interval(lookback)
    return _leaves(ep, q, ibis.ifelse(hit, 1, 0), ibis.literal(1))


def _retention(con: ibis.BaseBackend, q: CubeQuery) -> ir.Table:
    """Active entities (den) active again in [period_end, period_end + window) (num).

    The entity's next activity after a period is the first day of its next active
    period. Immature periods are returned too; maturity is the caller's business.
    """
    window = _need(q.window, "window", q)
    first, end = _span(q)
    ep = _entity_periods(con, q, first, end + window)
    ep = _in_range(ep.mutate(nxt=ep[_FIRST].lead().over(_by_entity("period"))), q)
    period_end = ep.period + _step(q.grain)
    hit = (ep.nxt >= period_end) & (ep.nxt < period_end + ibis.interval(window))
    return _leaves(ep, q, ibis.ifelse(hit, 1, 0), ibis.literal(1))


def _mix(con: ibis.BaseBackend, q: CubeQuery) -> ir.Table:
    """Active entities (den) in the category at their first event of the period (num)."""
    ep = _entity_periods(con, q, *_span(q), cat=_CAT)
    return _leaves(ep, q, ep.cat, ibis.literal(1))


def _calendar(q: CubeQuery) -> ir.Table:
    """A small table of the period starts in range."""
    start, end = _span(q)
    starts = [start]
    while (start := next_bucket(start, q.grain)) < end:
        starts.append(start)
    return ibis.memtable({"period": pd.to_datetime(starts)})


def _churn(con: ibis.BaseBackend, q: CubeQuery) -> ir.Table:
    """For period end E: entities active in [E-2W, E-W) (den), none in [E-W, E) (num).

    An entity-day d with next activity n is the entity's last day before E-W exactly
    when d + W < E <= n + W (n null = never); it is in the population when also
    E <= d + 2W, and lapsed when E <= n (or n null). Dimensions come from day d.
    Those E form a run of consecutive periods, so each entity-day adds +1 where its
    run starts and -1 after it ends, and a running sum per leaf counts the entities:
    the work grows with entity-days, not with entity-days times periods.
    """
    w = _need(q.window, "window", q)
    first, end = _span(q)
    days = _entity_days(con, q, first - 2 * w, end)
    days = days.mutate(nxt=days[_DAY].lead().over(_by_entity(_DAY)))
    d, step, unit = days[_DAY], _step(q.grain), _UNIT[q.grain]
    cap = d + ibis.interval(2 * w)
    nxt = days.nxt.fill_null(cap)
    start = (d + ibis.interval(w)).truncate(unit)  # the first period whose end is past d + W

    def last(bound: ir.TimestampValue) -> ir.TimestampValue:  # the last period ending by it
        return (ibis.least(cap, bound) - step).truncate(unit)

    runs = days.select(*q.dimensions, start=start, den=last(nxt + ibis.interval(w)), num=last(nxt))
    return _running_sums(runs, q)


def _running_sums(runs: ir.Table, q: CubeQuery) -> ir.Table:
    """Per leaf and period in range: the runs [start, den] and [start, num] covering it."""
    first = _ts(_span(q)[0])
    dims, step = list(q.dimensions), _step(q.grain)

    def edge(open_: ir.BooleanValue, at: ir.TimestampValue, den: int, num: _NumLike) -> ir.Table:
        return runs.filter(open_).select(
            *dims, period=ibis.greatest(at, first), **{_DEN: den, _NUM: num}
        )

    has_den, has_num = runs.den >= runs.start, runs.num >= runs.start
    edges = ibis.union(
        edge(has_den, runs.start, 1, ibis.ifelse(has_num, 1, 0)),
        edge(has_den, runs.den + step, -1, 0),
        edge(has_num, runs.num + step, 0, -1),
        distinct=False,
    )
    moves = edges.group_by(["period", *dims]).aggregate(dn=edges[_DEN].sum(), nn=edges[_NUM].sum())
    grid = moves.select(*dims).distinct().cross_join(_calendar(q)) if dims else _calendar(q)
    grid = grid.left_join(moves, ["period", *dims]).select(grid, dn=moves.dn, nn=moves.nn)
    upto = ibis.cumulative_window(group_by=dims, order_by="period")
    sums = grid.mutate(
        num=grid.nn.fill_null(0).sum().over(upto), den=grid.dn.fill_null(0).sum().over(upto)
    )
    return sums.filter(sums.den > 0).select("period", *dims, "num", "den")


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
