"""Metric kind -> one aggregate Ibis expression (the cube), portable across warehouses.

Every kind reduces to ``num`` and ``den`` per (period, dimension leaf), so that any
slice's value is ``sum(num) / sum(den)`` (rates) or ``sum(num)`` (count, sum). Ratio
numerators and denominators are *row* expressions summed per leaf: sums stay additive
across leaves, whereas an aggregate such as ``count(distinct x)`` would not.

The user's SQL (table, ``filter:``, row expressions, ``kind: sql`` queries) is parsed
in the warehouse's dialect and checked (``agent.sources.fragments``); the one SELECT
generated from it enters through ``con.sql``, and everything on top of it is Ibis, so
the same builder compiles for DuckDB, Postgres and the other Ibis backends. Only the
aggregated cube leaves the warehouse.

Entity kinds (returning, retention, mix, churn) live in ``agent.sources.cohorts``;
the rows they all read and sum are in ``agent.sources.rows``. One query per metric.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis
import ibis.expr.types as ir
from sqlglot.dialects.dialect import DialectType

from agent.cube import OTHER
from agent.periods import UNIT
from agent.sources import cohorts
from agent.sources.base import CubeQuery
from agent.sources.fragments import FragmentError, parse_query
from agent.sources.rows import (
    DEN,
    NUM,
    base_select,
    dimension,
    period_span,
    row_columns,
    source_rows,
    sum_leaves,
    timestamp,
)

__all__ = ["build_cube_expr", "user_sql"]


def user_sql(q: CubeQuery, dialect: DialectType) -> str:
    """The user-written SQL a query runs, the usual culprit when the warehouse refuses it."""
    if q.kind == "sql":
        return q.sql or ""
    try:
        return base_select(q.source, dialect, row_columns(q, dialect))
    except FragmentError:  # refused again, with its reason, when the query is built
        return ""


def build_cube_expr(con: ibis.BaseBackend, q: CubeQuery) -> ir.Table:
    """The whole cube of ``q``: ``period``, one string column per dimension, ``num``, ``den``.

    Periods run from the bucket holding ``q.start`` to the bucket holding ``q.end``;
    dimension values past the ``q.top_n`` largest (by total ``den``) fold into OTHER.
    Building needs the warehouse only to read the schema of the user's SQL.
    """
    leaves = _KINDS[q.kind](con, q)
    return _finish(leaves, q)


def _additive(con: ibis.BaseBackend, q: CubeQuery) -> ir.Table:
    """count / sum / ratio: sums of row expressions (den = row count unless ratio)."""
    t = source_rows(con, q, *period_span(q))
    period = t[q.source.time].truncate(UNIT[q.grain])
    t = t.mutate(period=period, **{d: dimension(t, d) for d in q.dimensions})
    den = t[DEN] if q.kind == "ratio" else ibis.literal(1)
    return sum_leaves(t, q, t[NUM], den)


def _user_query(con: ibis.BaseBackend, q: CubeQuery) -> ir.Table:
    """``kind: sql``: the user's query returning period, dimensions, num, den."""
    if not q.sql:
        raise ValueError(f"{q.metric}: kind 'sql' needs 'sql'")
    t = con.sql(parse_query(q.sql, con.dialect).sql(dialect=con.dialect, comments=False))
    t = t.mutate(period=t.period.cast("timestamp"))
    first, end = period_span(q)
    t = t.filter(t.period >= timestamp(first), t.period < timestamp(end))
    dims = {d: dimension(t, d) for d in q.dimensions}
    return t.select("period", num=t.num.cast("float64"), den=t.den.cast("float64"), **dims)


def _finish(leaves: ir.Table, q: CubeQuery) -> ir.Table:
    """Fold each dimension's tail into OTHER, re-aggregate, cast num/den to float64.

    A value is kept when it is among the ``q.top_n`` largest of its dimension by total
    ``den``. Totals and ranks are window functions over the leaves, so the leaves are
    read once: as a CTE read by one subquery per dimension, DuckDB's memory limit sent
    the whole 100M-event join to disk and doubled the cube's time.
    """
    vols = {f"_cx_vol_{d}": leaves.den.sum().over(group_by=d) for d in q.dimensions}
    ranked = leaves.mutate(**vols)
    ranks = {
        f"_cx_rank_{d}": ibis.dense_rank().over(order_by=[ibis.desc(f"_cx_vol_{d}"), d])
        for d in q.dimensions
    }
    ranked = ranked.mutate(**ranks)
    folded = ranked.mutate(
        **{
            d: ibis.ifelse(ranked[f"_cx_rank_{d}"] < q.top_n, ranked[d], OTHER)
            for d in q.dimensions
        }
    )
    cube = folded.group_by(["period", *q.dimensions]).aggregate(
        num=folded.num.sum().fill_null(0).cast("float64"),
        den=folded.den.sum().fill_null(0).cast("float64"),
    )
    return cube.order_by(["period", *q.dimensions])


_KINDS: dict[str, Callable[[ibis.BaseBackend, CubeQuery], ir.Table]] = {
    "count": _additive,
    "sum": _additive,
    "ratio": _additive,
    "returning": cohorts.returning,
    "retention": cohorts.retention,
    "churn": cohorts.churn,
    "mix": cohorts.mix,
    "sql": _user_query,
}
