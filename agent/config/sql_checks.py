"""Every piece of SQL in metrics.yaml parsed in the warehouse's dialect at load time, so
``validate`` refuses a statement, a subquery or a file reader at its line (exit 3)
before anything connects (see ``agent.sources.fragments`` for the rules)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import DialectType

from agent.config.reader import Path_
from agent.sources import SOURCES, scheme_of
from agent.sources.fragments import FragmentError, parse_expression, parse_query, parse_table

__all__ = ["sql_checks"]

_Parser = Callable[[str, DialectType], exp.Expr]
_SOURCE_FIELDS: dict[str, _Parser] = {"table": parse_table, "filter": parse_expression}
_METRIC_FIELDS: dict[str, _Parser] = {
    "expr": parse_expression,
    "numerator": parse_expression,
    "denominator": parse_expression,
    "category": parse_expression,
    "sql": parse_query,
}


def sql_checks(data: dict[str, Any]) -> Iterator[tuple[Path_, str, str | None]]:
    """(key path, message, hint) for every SQL value of ``data`` that is refused."""
    opener = SOURCES.get(scheme_of(str(data.get("warehouse") or "")))
    dialect = str(getattr(opener, "dialect", ""))
    for name, source in _blocks(data, "sources"):
        yield from _fields(("sources", name), source, _SOURCE_FIELDS, dialect)
        freshness = source.get("freshness")
        if isinstance(freshness, dict):
            at = ("sources", name, "freshness")
            yield from _fields(at, freshness, {"query": parse_query}, dialect)
    for name, metric in _blocks(data, "metrics"):
        yield from _fields(("metrics", name), metric, _METRIC_FIELDS, dialect)
    events = data.get("events")
    if isinstance(events, dict):
        yield from _fields(("events",), events, {"table": parse_table}, dialect)


def _blocks(data: dict[str, Any], key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    blocks = data.get(key)
    for name, block in (blocks if isinstance(blocks, dict) else {}).items():
        if isinstance(block, dict):
            yield name, block


def _fields(
    at: Path_, block: dict[str, Any], parsers: dict[str, _Parser], dialect: str
) -> Iterator[tuple[Path_, str, str | None]]:
    for field, parse in parsers.items():
        text = block.get(field)
        if not isinstance(text, str):
            continue
        try:
            parse(text, dialect)
        except FragmentError as exc:
            yield (*at, field), str(exc), exc.hint
