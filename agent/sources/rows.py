"""The source's rows inside the warehouse: read, bucketed by period, summed into leaves.

Shared by every metric kind (``agent.sources.sql`` for the additive ones and the
cube's last step, ``agent.sources.cohorts`` for the kinds that follow entities).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd
from sqlglot import exp
from sqlglot.dialects.dialect import DialectType

from agent.periods import STEPS, bucket_start, next_bucket
from agent.sources.base import CubeQuery, Grain, TableRef
from agent.sources.fragments import parse_expression, parse_query, parse_table, select_rows
from agent.text import MAX_VALUE, clean_text

__all__ = [
    "CAT",
    "DAY",
    "DEN",
    "ENTITY",
    "FIRST",
    "LAST",
    "LONGEST_VALUE",
    "NONE",
    "NUM",
    "base_select",
    "dimension",
    "sum_leaves",
    "required",
    "shown_cube",
    "shown_values",
    "row_columns",
    "source_rows",
    "period_span",
    "period_step",
    "timestamp",
]

NONE = "(none)"
LONGEST_VALUE = 1_000
"""Characters of a dimension value the cube keeps; the rest is cut in the warehouse.

A value as long as a document (a free-text column used as a dimension, a broken load)
would otherwise be copied into every leaf of the cube that has it, in the warehouse's
group-by and then in memory: one value of 100 KB took a metric from 0.4 GB to 1.7 GB,
or past DuckDB's memory limit. The cut is longer than the MAX_VALUE characters every
output shows (``shown_cube`` cuts again and merges the leaves that became equal), so it
changes no figure or report; it only keeps the document out of the group-by and the fetch."""

# internal column names, prefixed so they never meet a user's column
ENTITY = "_cx_entity"
DAY = "_cx_day"
NUM = "_cx_num"
DEN = "_cx_den"
CAT = "_cx_cat"
FIRST = "_cx_first"
LAST = "_cx_last"


def base_select(
    ref: TableRef, dialect: DialectType, columns: Mapping[str, exp.Expr] | None = None
) -> str:
    """The SQL reading a source: its table, its filter, plus named row expressions, each
    parsed from metrics.yaml and generated again in the warehouse's ``dialect``."""
    where = parse_expression(ref.filter, dialect) if ref.filter else None
    return select_rows(_rows_of(ref, dialect), dialect, where, columns)


def _rows_of(ref: TableRef, dialect: DialectType) -> exp.Expr:
    """The source's table, or for a freshness query the one row it returns."""
    if ref.loaded_query is None:
        return parse_table(ref.table, dialect)
    loaded = parse_query(ref.loaded_query, dialect).subquery().as_(ref.time)
    return exp.select(loaded).subquery("cx_freshness")


def row_columns(q: CubeQuery, dialect: DialectType) -> dict[str, exp.Expr]:
    """Named row expressions each kind needs projected next to the source's columns."""
    if q.kind in ("count", "sum"):
        if q.kind == "sum" and not q.expr:
            raise ValueError(f"{q.metric}: kind 'sum' needs 'expr'")
        return {NUM: parse_expression(q.expr, dialect) if q.expr else exp.Literal.number(1)}
    if q.kind == "ratio":
        if not (q.numerator and q.denominator):
            raise ValueError(f"{q.metric}: kind 'ratio' needs 'numerator' and 'denominator'")
        return {
            NUM: parse_expression(q.numerator, dialect),
            DEN: parse_expression(q.denominator, dialect),
        }
    if q.kind == "mix":
        if not q.category:
            raise ValueError(f"{q.metric}: kind 'mix' needs 'category'")
        member = parse_expression(q.category, dialect)
        return {CAT: exp.Case().when(member, exp.Literal.number(1)).else_(exp.Literal.number(0))}
    return {}


def timestamp(day: date) -> ir.TimestampScalar:
    return ibis.literal(datetime(day.year, day.month, day.day), type="timestamp")


def period_span(q: CubeQuery) -> tuple[date, date]:
    """First period start and the end (exclusive) of the last period."""
    first = bucket_start(q.start, q.grain)
    return first, next_bucket(bucket_start(q.end, q.grain), q.grain)


def period_step(grain: Grain) -> ir.IntervalScalar:
    """One period of ``grain`` as a warehouse interval."""
    return ibis.interval(**STEPS[grain])


def required(value: timedelta | None, what: str, q: CubeQuery) -> timedelta:
    if value is None:
        raise ValueError(f"{q.metric}: kind {q.kind!r} needs {what!r}")
    return value


def source_rows(con: ibis.BaseBackend, q: CubeQuery, lo: date, hi: date) -> ir.Table:
    """The source's rows with time in [lo, hi), the time column as a timestamp."""
    t = con.sql(base_select(q.source, con.dialect, row_columns(q, con.dialect)))
    time = t[q.source.time]
    if not time.type().is_timestamp():  # a DATE column; a no-op cast would hinder pruning
        t = t.mutate(**{q.source.time: time.cast("timestamp")})
    return t.filter(t[q.source.time] >= timestamp(lo), t[q.source.time] < timestamp(hi))


def dimension(t: ir.Table, name: str) -> ir.StringColumn:
    """Column ``name`` as the cube reads a dimension: text, missing values named, values
    longer than LONGEST_VALUE cut in the warehouse, before anything is grouped by them."""
    return t[name].cast("string").fill_null(NONE).left(LONGEST_VALUE)


def shown_values(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``frame`` with the text of ``columns`` as every output shows it: no control
    characters (NUL, direction overrides), at most MAX_VALUE characters. Done once, where
    rows leave the warehouse, so reports, alerts and the store all hold the same value."""
    for column in columns:
        values = frame[column].unique()
        shown = {v: clean_text(v, MAX_VALUE) for v in values if isinstance(v, str)}
        if any(k != v for k, v in shown.items()):
            frame[column] = frame[column].map(lambda v, shown=shown: shown.get(v, v))
    return frame


def shown_cube(cube: pd.DataFrame, dimensions: Sequence[str]) -> pd.DataFrame:
    """The cube's dimension values as shown (``shown_values``); leaves whose values became
    equal are summed into one."""
    before = [cube[d].nunique() for d in dimensions]
    cube = shown_values(cube, dimensions)
    if [cube[d].nunique() for d in dimensions] == before:
        return cube
    keys = ["period", *dimensions]
    return cube.groupby(keys, as_index=False, sort=False)[["num", "den"]].sum()


def sum_leaves(t: ir.Table, q: CubeQuery, num: ir.NumericValue, den: ir.NumericValue) -> ir.Table:
    """Sum per-row ``num``/``den`` into one row per (period, leaf)."""
    t = t.mutate(**{NUM: num, DEN: den})
    return t.group_by(["period", *q.dimensions]).aggregate(num=t[NUM].sum(), den=t[DEN].sum())
