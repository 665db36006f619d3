"""Does the warehouse have what metrics.yaml names? (``cx-agent validate --connect``)

Every table (or view) must exist; time, entity and dimension columns must be in it;
filters, row expressions and ``kind: sql`` queries must run. Each gap is reported at
the key of metrics.yaml that names the missing thing, so the CLI can give file:line.
Only schemas are read: each check is a query the warehouse plans but returns no rows of.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import NamedTuple

import ibis

from agent.errors import SourceError
from agent.sources.base import CubeQuery, TableRef
from agent.sources.ibis_source import IbisSource, translate_errors
from agent.sources.rows import base_select

__all__ = ["Gap", "check_warehouse"]

_ROW_FIELDS = ("expr", "numerator", "denominator", "category")


class Gap(NamedTuple):
    """Something metrics.yaml names that the warehouse lacks, at its key path."""

    at: tuple[str | int, ...]
    message: str
    hint: str | None = None


def check_warehouse(
    source: IbisSource, queries: Iterable[CubeQuery], events_table: str | None = None
) -> list[Gap]:
    """Every gap between the metrics' queries (and the events table) and the warehouse."""
    con = source.connection()
    gaps: list[Gap] = []
    tables: dict[str, list[str] | None] = {}
    for q in queries:
        if q.source.name not in tables:
            tables[q.source.name] = _check_source(con, q.source, gaps)
        columns = tables[q.source.name]
        if columns is not None or q.kind == "sql":
            gaps += _check_metric(con, q, columns or [])
    if events_table:
        gaps += _check_events(con, events_table)
    return gaps


def _columns(con: ibis.BaseBackend, sql: str) -> tuple[list[str], str | None]:
    """The columns ``sql`` returns, or the warehouse's reason it cannot run."""
    try:
        with translate_errors("(check)", "(check)", sql):
            return list(con.sql(sql).schema().names), None
    except SourceError as exc:
        return [], exc.reason


def _missing(column: str, columns: list[str], table: str, at: tuple[str | int, ...]) -> Gap:
    close = difflib.get_close_matches(column, columns, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"columns: {', '.join(columns)}"
    return Gap(at, f"column {column!r} is not in {table}", hint)


def _check_source(con: ibis.BaseBackend, ref: TableRef, gaps: list[Gap]) -> list[str] | None:
    """The source's columns, or None (and its gaps) when its table or filter fails."""
    at = ("sources", ref.name)
    columns, reason = _columns(con, f"SELECT * FROM {ref.table}")
    if reason:
        hint = "check the name; qualify it (schema.table) if it is not in the default schema"
        gaps.append(Gap((*at, "table"), f"table {ref.table!r} not found: {reason}", hint))
        return None
    named = {"time": ref.time, "entity": ref.entity}
    gaps += [
        _missing(col, columns, ref.table, (*at, key))
        for key, col in named.items()
        if col and col not in columns
    ]
    if ref.filter and (reason := _columns(con, base_select(ref))[1]):
        gaps.append(Gap((*at, "filter"), f"the filter does not run: {reason}"))
        return None
    return columns


def _check_metric(con: ibis.BaseBackend, q: CubeQuery, columns: list[str]) -> list[Gap]:
    at = ("metrics", q.metric)
    if q.kind == "sql":
        columns, reason = _columns(con, q.sql or "")
        if reason:
            return [Gap((*at, "sql"), f"the query does not run: {reason}")]
        needed = ["period", *q.dimensions, "num", "den"]
        return [
            _missing(c, columns, "the query's result", (*at, "sql"))
            for c in needed
            if c not in columns
        ]
    gaps = [
        _missing(dim, columns, q.source.table, (*at, "dimensions", i))
        for i, dim in enumerate(q.dimensions)
        if dim not in columns
    ]
    for field in _ROW_FIELDS:
        expr = getattr(q, field)
        if expr and (reason := _columns(con, base_select(q.source, {"_cx_check": expr}))[1]):
            gaps.append(Gap((*at, field), f"does not run on the warehouse: {reason}"))
    return gaps


def _check_events(con: ibis.BaseBackend, table: str) -> list[Gap]:
    columns, reason = _columns(con, f"SELECT * FROM {table}")
    if reason:
        return [Gap(("events", "table"), f"table {table!r} not found: {reason}")]
    return [
        _missing(col, columns, table, ("events", "table"))
        for col in ("name", "start_date")
        if col not in columns
    ]
