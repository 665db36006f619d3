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

from agent.errors import ConfigError, SourceError
from agent.sources.base import CubeQuery, Source, TableRef
from agent.sources.fragments import parse_expression, parse_query, select_table
from agent.sources.ibis_source import IbisSource
from agent.sources.rows import base_select

__all__ = ["Gap", "check_warehouse"]

_ROW_FIELDS = ("expr", "numerator", "denominator", "category")


class Gap(NamedTuple):
    """Something metrics.yaml names that the warehouse lacks, at its key path."""

    at: tuple[str | int, ...]
    message: str
    hint: str | None = None


def check_warehouse(
    source: Source, queries: Iterable[CubeQuery], events_table: str | None = None
) -> list[Gap]:
    """Every gap between the metrics' queries (and the events table) and the warehouse.

    Schemas are looked up through Ibis: a Source of another make can only be pinged.
    """
    if not isinstance(source, IbisSource):
        raise ConfigError.setting(
            f"warehouse: {source.dialect} cannot be searched for tables and columns",
            "run `cx-agent validate` without --connect",
        )
    gaps: list[Gap] = []
    tables: dict[str, list[str] | None] = {}
    for q in queries:
        if q.source.name not in tables:
            tables[q.source.name] = _check_source(source, q.source, gaps)
        columns = tables[q.source.name]
        if columns is not None or q.kind == "sql":
            gaps += _check_metric(source, q, columns or [])
    if events_table:
        gaps += _check_events(source, events_table)
    return gaps


def _columns(
    source: IbisSource, sql: str, table: str | None = None
) -> tuple[list[str], str | None]:
    """The columns ``sql`` returns, or the warehouse's reason it cannot run (in the words
    the user sees; a warehouse that cannot be reached is an error, not a gap)."""
    try:
        with source.failing("checking what metrics.yaml names", sql, table):
            return list(source.connection().sql(sql).schema().names), None
    except SourceError as exc:
        if exc.unreachable:
            raise
        return [], exc.reason


def _table_gap(at: tuple[str | int, ...], reason: str) -> Gap:
    """A table (or its query) the warehouse refused; its suggestion, if any, as the hint."""
    message, _, suggestion = reason.partition(" — ")
    hint = "check the name; qualify it (schema.table) if it is not in the default schema"
    return Gap(at, message, suggestion or hint)


def _missing(column: str, columns: list[str], table: str, at: tuple[str | int, ...]) -> Gap:
    close = difflib.get_close_matches(column, columns, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"columns: {', '.join(columns)}"
    return Gap(at, f"column {column!r} is not in {table}", hint)


def _check_source(source: IbisSource, ref: TableRef, gaps: list[Gap]) -> list[str] | None:
    """The source's columns, or None (and its gaps) when its table or filter fails."""
    at = ("sources", ref.name)
    columns, reason = _columns(source, select_table(ref.table, source.dialect))
    if reason:
        gaps.append(_table_gap((*at, "table"), reason))
        return None
    named = {"time": ref.time, "entity": ref.entity, "text": ref.text}
    gaps += [
        _missing(col, columns, ref.table, (*at, key))
        for key, col in named.items()
        if col and col not in columns
    ]
    if ref.filter and (reason := _columns(source, base_select(ref, source.dialect), ref.table)[1]):
        gaps.append(Gap((*at, "filter"), f"the filter does not run: {reason}"))
        return None
    return columns


def _check_metric(source: IbisSource, q: CubeQuery, columns: list[str]) -> list[Gap]:
    at = ("metrics", q.metric)
    if q.kind == "sql":
        query = parse_query(q.sql or "", source.dialect)
        columns, reason = _columns(source, query.sql(dialect=source.dialect, comments=False))
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
        checked = {"_cx_check": parse_expression(expr, source.dialect)} if expr else {}
        sql = base_select(q.source, source.dialect, checked) if expr else ""
        if expr and (reason := _columns(source, sql, q.source.table)[1]):
            gaps.append(Gap((*at, field), f"does not run on the warehouse: {reason}"))
    return gaps


def _check_events(source: IbisSource, table: str) -> list[Gap]:
    columns, reason = _columns(source, select_table(table, source.dialect))
    if reason:
        return [_table_gap(("events", "table"), reason)]
    return [
        _missing(col, columns, table, ("events", "table"))
        for col in ("name", "start_date")
        if col not in columns
    ]
