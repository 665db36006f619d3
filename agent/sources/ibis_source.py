"""IbisSource: what every warehouse shares once it has an Ibis connection.

A warehouse class only says how to open its connection (``_open``) and, if its driver
needs it, how to collect a result (``_collect``); cube, bounds, known events, ping and
the errors a user sees are the same on DuckDB, Postgres, Spark and the rest.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import ClassVar, Self

import ibis
import ibis.expr.types as ir
import pandas as pd

from agent.errors import ConfigError, SourceError
from agent.sources.base import CubeQuery, TableRef
from agent.sources.customers import CustomerQuery, build_customers_expr
from agent.sources.rows import base_select
from agent.sources.sql import build_cube_expr, user_sql

__all__ = ["IbisSource", "require_driver", "translate_errors"]

# Top-level packages whose exceptions mean "the warehouse (or its SQL) said no".
_DRIVERS = frozenset(
    ("duckdb", "psycopg", "pyspark", "py4j", "google", "snowflake", "trino", "databricks")
    + ("ibis", "sqlglot", "pyarrow")
)


def _from_driver(exc: BaseException) -> bool:
    return isinstance(exc, OSError) or type(exc).__module__.split(".")[0].lstrip("_") in _DRIVERS


@contextmanager
def translate_errors(metric: str, source: str, sql: str) -> Iterator[None]:
    """Turn driver, Ibis and SQL-parsing errors into a SourceError naming metric and source."""
    try:
        yield
    except Exception as exc:
        if not _from_driver(exc):
            raise
        head = sql.strip().splitlines()[0] if sql.strip() else ""
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(metric, source, head, reason) from exc


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
    """A warehouse reached through Ibis, connected on first use and closed by ``close``."""

    dialect: ClassVar[str]

    def __init__(self, shown: str) -> None:
        self.shown = shown  # how errors name this warehouse (never with a password)
        self._con: ibis.BaseBackend | None = None

    def _open(self) -> ibis.BaseBackend:
        raise NotImplementedError

    def _disconnect(self, con: ibis.BaseBackend) -> None:
        con.disconnect()

    def _collect(self, expr: ir.Table) -> pd.DataFrame:
        """Run ``expr`` in the warehouse and bring its (small) result back."""
        return expr.to_pandas()

    def connection(self) -> ibis.BaseBackend:
        """The Ibis connection, opened on first use."""
        if self._con is None:
            self._con = self._open()
        return self._con

    def fetch_cube(self, query: CubeQuery) -> pd.DataFrame:
        """The cube of ``query``, computed in the warehouse; sorted by period then dimensions."""
        with translate_errors(query.metric, query.source.name, user_sql(query)):
            frame = self._collect(build_cube_expr(self.connection(), query))
        keys = ["period", *query.dimensions]
        frame = frame.astype({"num": "float64", "den": "float64"})
        frame["period"] = _naive(frame["period"])
        return frame.sort_values(keys, ignore_index=True)

    def data_bounds(
        self, source: TableRef, since: datetime | None = None
    ) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """Earliest and latest value of the source's time column after its filter."""
        sql = base_select(source)
        with translate_errors("(data bounds)", source.name, sql):
            t = self.connection().sql(sql)
            time = t[source.time].cast("timestamp")
            if since is not None:
                t = t.filter(time >= ibis.literal(since, type="timestamp"))
            row = self._collect(t.aggregate(lo=time.min(), hi=time.max())).iloc[0]
        return _timestamp(row["lo"]), _timestamp(row["hi"])

    def fetch_customers(self, query: CustomerQuery) -> pd.DataFrame:
        """The customers behind one cause (declared columns only), listed in the warehouse."""
        with translate_errors(query.metric, query.source.name, base_select(query.source)):
            return self._collect(build_customers_expr(self.connection(), query))

    def fetch_events(self, table: str) -> pd.DataFrame:
        """The rows of a small table of known events (at most 10,000)."""
        with translate_errors("(events)", table, f"SELECT * FROM {table}"):
            return self._collect(self.connection().sql(f"SELECT * FROM {table}").limit(10_000))

    def ping(self) -> None:
        with translate_errors("(ping)", self.shown, "SELECT 1"):
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


def _naive(period: pd.Series) -> pd.Series:
    """Bucket starts as naive timestamps (drivers that return UTC-aware ones lose the zone)."""
    stamps = pd.to_datetime(period)
    return stamps.dt.tz_convert("UTC").dt.tz_localize(None) if stamps.dt.tz else stamps


def _timestamp(value: object) -> pd.Timestamp | None:
    if pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
