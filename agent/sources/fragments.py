"""metrics.yaml's SQL, parsed and checked: expressions and queries, never text to paste.

A source's ``filter:`` and a metric's ``expr``, ``numerator``, ``denominator`` and
``category`` are *row expressions*: one scalar expression over the source's columns,
with no ``;``, subquery, aggregate, window, table function or file reader. A source's
``table`` is a (qualified) table name. ``kind: sql`` and ``freshness.query`` are one
``SELECT`` reading tables by name. Each is parsed with sqlglot in the warehouse's
dialect; the SQL sent to the warehouse is generated from the parsed tree
(:func:`select_rows`), so nothing written in metrics.yaml can end a statement, open a
second one or read a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import cast

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, DialectType
from sqlglot.errors import ParseError, SqlglotError

from agent.errors import AgentError

__all__ = [
    "MAX_SQL",
    "FragmentError",
    "parse_expression",
    "parse_query",
    "parse_table",
    "select_rows",
    "select_table",
]

MAX_SQL = 20_000
"""Longest SQL text read from metrics.yaml (a `kind: sql` query of 300 lines is ~15,000)."""

_DENIED = re.compile(
    r"(read_|pg_read|pg_ls|pg_stat_file|lo_|dblink).*|.*_scan|glob|getenv|sniff_csv"
    r"|query|query_table|load_file|sleep|pg_sleep|set_config",
    re.IGNORECASE,
)
"""Functions that read files, other databases or the environment, or stall the warehouse."""
_NAME_PART = re.compile(r"[^/\\:*?'\"\s;]+")
"""A part of a table name: no path separators or quotes (DuckDB reads a file named so)."""
_NOT_IN_ROWS: tuple[tuple[type[exp.Expr], str], ...] = (
    (exp.Query, "a subquery"),
    (exp.Subquery, "a subquery"),
    (exp.Table, "a table"),
    (exp.UDTF, "a table function"),
    (exp.AggFunc, "an aggregate (it is summed per period already)"),
    (exp.Window, "a window function"),
    (exp.Star, "`*`"),
    (exp.Placeholder, "a parameter placeholder"),
)


class FragmentError(AgentError, ValueError):
    """A piece of SQL in metrics.yaml that cannot be used as written; ``hint`` says how."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def parse_expression(text: str, dialect: DialectType) -> exp.Expr:
    """``text`` as one scalar row expression over the source's columns."""
    node = _one(text, dialect, exp.Condition, "one SQL expression over the source's columns")
    for kind, what in _NOT_IN_ROWS:
        if isinstance(node, kind) or node.find(kind) is not None:
            raise FragmentError(
                f"holds {what}; a row expression reads only the row's own columns",
                "write an expression such as CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END",
            )
    _no_denied_functions(node)
    return node


def parse_query(text: str, dialect: DialectType) -> exp.Query:
    """``text`` as one SELECT statement that reads tables by name."""
    node = _one(text, dialect, None, "one SELECT statement")
    if not isinstance(node, exp.Query):
        raise FragmentError(
            f"is a {node.key.upper()} statement, not a SELECT",
            "write one SELECT; cx-agent only reads",
        )
    for table in node.find_all(exp.Table):
        _table_name(table)
    _no_denied_functions(node)
    return node


def parse_table(text: str, dialect: DialectType) -> exp.Table:
    """``text`` as a table or view name, optionally qualified (``analytics.events``)."""
    table = _one(text, dialect, exp.Table, "a table name such as analytics.events")
    return _table_name(cast(exp.Table, table))  # parsed into a Table, so one


def select_rows(
    table: exp.Expr,
    dialect: DialectType,
    where: exp.Expr | None = None,
    columns: Mapping[str, exp.Expr] | None = None,
) -> str:
    """``SELECT *, <columns> FROM <table> [WHERE <where>]`` generated from parsed trees."""
    extra = [
        expression.copy().as_(name, quoted=True) for name, expression in (columns or {}).items()
    ]
    select = exp.select(exp.Star(), *extra).from_(table.copy())
    if where is not None:
        select = select.where(where.copy())
    return select.sql(dialect=dialect, comments=False)


def select_table(name: str, dialect: DialectType) -> str:
    """``SELECT * FROM <name>`` for a table name checked by :func:`parse_table`."""
    return select_rows(parse_table(name, dialect), dialect)


def _one(text: str, dialect: DialectType, into: type[exp.Expr] | None, wanted: str) -> exp.Expr:
    if len(text) > MAX_SQL:
        raise FragmentError(f"is {len(text):,} characters long (at most {MAX_SQL:,})", "shorten it")
    try:
        if any(t.token_type.name == "SEMICOLON" for t in _dialect(dialect).tokenize(text)):
            raise FragmentError("holds a `;`, which would start a second statement", _hint(wanted))
        nodes = [n for n in _parse(text, dialect, into) if n is not None]
    except (SqlglotError, RecursionError) as exc:
        raise FragmentError(f"is not {wanted}: {_reason(exc)}", _hint(wanted)) from None
    if not nodes:
        raise FragmentError(f"is empty; it must be {wanted}", _hint(wanted))
    return nodes[0]


def _dialect(dialect: DialectType) -> Dialect:
    return Dialect.get_or_raise(dialect)


def _parse(text: str, dialect: DialectType, into: type[exp.Expr] | None) -> list[exp.Expr | None]:
    if into is None:
        return sqlglot.parse(text, read=dialect)
    return list(_dialect(dialect).parse_into(into, text))


def _reason(exc: BaseException) -> str:
    """The parser's reason and column, without echoing the text."""
    if isinstance(exc, RecursionError):
        return "it nests too deeply"
    errors = getattr(exc, "errors", None) or [{}]
    where = f" at column {errors[0]['col']}" if errors[0].get("col") else ""
    if isinstance(exc, ParseError) and errors[0].get("description"):
        return str(errors[0]["description"]).partition(" for <class")[0] + where
    return "a string or quoted name is not closed" if "tokeniz" in str(exc) else "bad syntax"


def _hint(wanted: str) -> str:
    return f"write {wanted}; metrics.yaml holds expressions, not statements"


def _table_name(table: exp.Table) -> exp.Table:
    parts = table.parts
    if not all(isinstance(p, exp.Identifier) and _NAME_PART.fullmatch(p.name) for p in parts):
        raise FragmentError(
            f"reads {table.sql()[:60]!r}, which is not a table name",
            "read tables or views by name; cx-agent does not read files or table functions",
        )
    return table


def _no_denied_functions(node: exp.Expr) -> None:
    for name in _function_names(node):
        if _DENIED.fullmatch(name):
            raise FragmentError(
                f"calls {name}(), which reads outside the warehouse's tables",
                "remove it; metrics read only the tables metrics.yaml names",
            )


def _function_names(node: exp.Expr) -> Iterator[str]:
    for func in node.find_all(exp.Func):
        yield func.name if isinstance(func, exp.Anonymous) else func.sql_name()
