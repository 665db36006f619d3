"""IbisSource: what every warehouse shares once it has an Ibis connection.

A warehouse class only says how to open its connection (``_open``) and, if its driver
needs it, how to collect a result (``_collect``); cube, bounds, known events, ping and
the errors a user sees are the same on DuckDB, Postgres, Spark and the rest.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from types import TracebackType
from typing import ClassVar, Self

import ibis
import ibis.expr.types as ir
import pandas as pd

from agent.errors import ConfigError, SourceError
from agent.sources.base import CubeQuery, TableRef
from agent.sources.customers import CustomerQuery, build_customers_expr
from agent.sources.failures import (
    connect_reason,
    did_you_mean,
    first_line,
    lost_connection,
    missing_column,
    missing_table,
)
from agent.sources.fragments import FragmentError, select_table
from agent.sources.rows import base_select, shown_cube, shown_values
from agent.sources.sql import build_cube_expr, user_sql
from agent.sources.texts import TextQuery, Texts, build_text_counts, build_texts_expr

__all__ = ["IbisSource", "require_driver"]

# Top-level packages whose exceptions mean "the warehouse (or its SQL) said no".
_DRIVERS = frozenset(
    ("duckdb", "psycopg", "pyspark", "py4j", "google", "snowflake", "trino", "databricks")
    + ("ibis", "sqlglot", "pyarrow")
)


def _from_driver(exc: BaseException) -> bool:
    if isinstance(exc, OSError | FragmentError):  # FragmentError: SQL validate would refuse
        return True
    return type(exc).__module__.split(".")[0].lstrip("_") in _DRIVERS


def require_driver(scheme: str, module: str, extra: str) -> None:
    """A ConfigError naming the install extra when ``module`` (the driver) is missing."""
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package of a dotted name
        found = False
    if not found:
        raise ConfigError.setting(
            f"warehouse: {scheme}:// needs the {module} driver, not installed",
            f"pip install 'cx-agent[{extra}]'",
        )


class IbisSource:
    """A warehouse reached through Ibis, connected on first use and closed by ``close``.

    Every query runs inside ``failing``, which turns what the driver raised into a
    SourceError in the user's words. A connection that failed or broke is dropped, so
    the next query connects again (the server may be back).
    """

    dialect: ClassVar[str]

    def __init__(self, address: str) -> None:
        self.address = address  # how errors name where the warehouse is (never a password)
        self._con: ibis.BaseBackend | None = None

    def _open(self) -> ibis.BaseBackend:
        raise NotImplementedError

    def _disconnect(self, con: ibis.BaseBackend) -> None:
        con.disconnect()

    def _collect(self, expr: ir.Table) -> pd.DataFrame:
        """Run ``expr`` in the warehouse and bring its (small) result back."""
        frame: pd.DataFrame = expr.to_pandas()  # Ibis has no type hints
        return frame

    def connection(self) -> ibis.BaseBackend:
        """The Ibis connection, opened on first use."""
        if self._con is None:
            try:
                self._con = self._open()
            except Exception as exc:
                if not _from_driver(exc):
                    raise
                missing = isinstance(exc, FileNotFoundError)  # a DuckDB file: says it all
                reason = str(exc) if missing else connect_reason(exc, self.address)
                raise SourceError("connecting to the warehouse", reason, unreachable=True) from exc
        return self._con

    @contextmanager
    def failing(self, doing: str, sql: str = "", table: str | None = None) -> Iterator[None]:
        """Run the block as ``doing`` (plain words); a driver, Ibis or SQL-parsing error in
        it becomes a SourceError. ``table``: the table the query reads, whose near names
        are offered when the warehouse says it is missing."""
        try:
            yield
        except SourceError as exc:  # could not connect: say what it was connecting for
            raise SourceError(doing, exc.reason, sql, unreachable=exc.unreachable) from exc
        except Exception as exc:
            if not _from_driver(exc):
                raise
            if lost_connection(exc):
                self._forget()
                reason = f"lost the connection to the warehouse at {self.address}"
                reason += f" ({first_line(exc)})"
                raise SourceError(doing, reason, sql, unreachable=True) from exc
            raise SourceError(doing, self._reason(exc, table), sql) from exc

    def _reason(self, exc: BaseException, table: str | None) -> str:
        if (missing := missing_table(exc)) is not None:
            return f"table {missing} not found in {self.place()}" + did_you_mean(
                missing, self._names(lambda con: con.list_tables())
            )
        if (column := missing_column(exc)) is not None and table is not None:
            sql = select_table(table, self.dialect)
            columns = self._names(lambda con: con.sql(sql).schema().names)
            return f"column {column} not found in {table}" + did_you_mean(column, columns)
        return first_line(exc)

    def _names(self, lookup: Callable[[ibis.BaseBackend], Iterable[str]]) -> list[str]:
        """Names the warehouse knows (tables, columns), to suggest one; none if it fails."""
        try:
            return list(lookup(self.connection()))
        except Exception:  # only a suggestion: the error being reported matters more
            return []

    def place(self) -> str:
        """Where unqualified tables are looked up: the database (and schema, if not the
        default one), for "table x not found in analytics"."""
        try:
            con = self.connection()
            catalog, schema = con.current_catalog, con.current_database
        except Exception:
            return f"the warehouse at {self.address}"
        default = schema in (None, "", "public", "main", "default")
        return str(catalog) if default else f"{catalog}.{schema}"

    def _forget(self) -> None:
        """Drop a broken connection (quietly: it is broken); the next query reconnects."""
        con, self._con = self._con, None
        if con is not None:
            with suppress(Exception):
                self._disconnect(con)

    def fetch_cube(self, query: CubeQuery) -> pd.DataFrame:
        """The cube of ``query``, computed in the warehouse; sorted by period then dimensions."""
        doing = f"computing metric {query.metric!r} in the warehouse"
        with self.failing(doing, user_sql(query, self.dialect), query.source.table):
            frame = self._collect(build_cube_expr(self.connection(), query))
        keys = ["period", *query.dimensions]
        frame = shown_cube(frame.astype({"num": "float64", "den": "float64"}), query.dimensions)
        frame["period"] = _naive(frame["period"])
        return frame.sort_values(keys, ignore_index=True)

    def data_bounds(
        self, source: TableRef, since: datetime | None = None
    ) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """Earliest and latest value of the source's time column after its filter."""
        sql = base_select(source, self.dialect)
        with self.failing(f"finding the newest data of source {source.name!r}", sql, source.table):
            t = self.connection().sql(sql)
            time = t[source.time].cast("timestamp")
            if since is not None:
                t = t.filter(time >= ibis.literal(since, type="timestamp"))
            row = self._collect(t.aggregate(lo=time.min(), hi=time.max())).iloc[0]
        return _timestamp(row["lo"]), _timestamp(row["hi"])

    def fetch_customers(self, query: CustomerQuery) -> pd.DataFrame:
        """The customers behind one cause (declared columns only), listed in the warehouse."""
        doing = f"listing the customers behind a change of {query.metric!r}"
        sql = base_select(query.source, self.dialect)
        with self.failing(doing, sql, query.source.table):
            return self._collect(build_customers_expr(self.connection(), query))

    def fetch_texts(self, query: TextQuery) -> Texts:
        """The segment's comments before and after (text only, ``query.cap`` per window)."""
        doing = f"reading what customers wrote behind a change of {query.metric!r}"
        sql = base_select(query.source, self.dialect)
        with self.failing(doing, sql, query.source.table), _unreadable(doing, sql):
            con = self.connection()
            counts = self._collect(build_text_counts(con, query)).iloc[0]
            before, after = (
                self._collect(build_texts_expr(con, query, window))["text"].tolist()
                for window in (query.before, query.after)
            )
        return Texts(before, after, int(counts["before"] or 0), int(counts["after"] or 0))

    def fetch_events(self, table: str) -> pd.DataFrame:
        """The rows of a small table of known events (at most 10,000)."""
        sql = select_table(table, self.dialect)
        with self.failing(f"reading the known events in table {table}", sql, table):
            events = self._collect(self.connection().sql(sql).limit(10_000))
        texts = [c for c in events.columns if pd.api.types.is_string_dtype(events[c])]
        return shown_values(events, texts)

    def ping(self) -> None:
        with self.failing("checking the connection", "SELECT 1"):
            self._collect(self.connection().sql("SELECT 1 AS ok"))

    def close(self) -> None:
        if self._con is not None:
            self._disconnect(self._con)
            self._con = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@contextmanager
def _unreadable(doing: str, sql: str) -> Iterator[None]:
    """A source without the text or a segment's column: a SourceError saying which."""
    try:
        yield
    except ValueError as exc:
        raise SourceError(doing, str(exc), sql) from None


def _naive(period: pd.Series) -> pd.Series:
    """Bucket starts as naive timestamps (drivers that return UTC-aware ones lose the zone)."""
    stamps = pd.to_datetime(period)
    return stamps.dt.tz_convert("UTC").dt.tz_localize(None) if stamps.dt.tz else stamps


def _timestamp(value: datetime | None) -> pd.Timestamp | None:
    """A driver's timestamp (aware or not; NULL as None or NaT) as a naive UTC one."""
    if pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
