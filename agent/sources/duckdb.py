"""DuckDBSource: the default warehouse, an embedded DuckDB file opened read-only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import ClassVar

import duckdb
import ibis
import pandas as pd
from ibis.common.exceptions import IbisError
from sqlglot.errors import SqlglotError

from agent.errors import SourceError
from agent.sources.base import CubeQuery, TableRef
from agent.sources.sql import base_select, build_cube_expr, user_sql

__all__ = ["DuckDBSource", "duckdb_path", "translate_errors"]

_DRIVER_ERRORS = (duckdb.Error, IbisError, SqlglotError, OSError)


@contextmanager
def translate_errors(metric: str, source: str, sql: str) -> Iterator[None]:
    """Turn driver, Ibis and SQL-parsing errors into a SourceError naming metric and source."""
    try:
        yield
    except _DRIVER_ERRORS as exc:
        head = sql.strip().splitlines()[0] if sql.strip() else ""
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(metric, source, head, reason) from exc


def duckdb_path(url_or_path: str | Path, base_dir: Path) -> Path:
    """``duckdb:///rel.duckdb`` (relative to base_dir), ``duckdb:////abs.duckdb`` or a path."""
    text = str(url_or_path)
    if text.startswith("duckdb://"):
        text = text.removeprefix("duckdb://").removeprefix("/")
    path = Path(text).expanduser()
    return path if path.is_absolute() else base_dir / path


class DuckDBSource:
    """A DuckDB file, opened read-only on first use; a missing file is never created."""

    dialect: ClassVar[str] = "duckdb"

    def __init__(self, url_or_path: str | Path, *, base_dir: Path | None = None) -> None:
        self.path = duckdb_path(url_or_path, base_dir or Path.cwd())
        self._con: ibis.BaseBackend | None = None

    def _connection(self) -> ibis.BaseBackend:
        if self._con is None:
            if not self.path.is_file():
                raise FileNotFoundError(
                    f"DuckDB file {self.path} does not exist: run `cx-agent demo` to create "
                    "the demo warehouse, or fix `warehouse:` in metrics.yaml"
                )
            self._con = ibis.duckdb.connect(str(self.path), read_only=True)
        return self._con

    def fetch_cube(self, query: CubeQuery) -> pd.DataFrame:
        """The cube of ``query``, computed in DuckDB; sorted by period then dimensions."""
        with translate_errors(query.metric, query.source.name, user_sql(query)):
            frame = build_cube_expr(self._connection(), query).to_pandas()
        keys = ["period", *query.dimensions]
        frame = frame.astype({"num": "float64", "den": "float64"})
        frame["period"] = pd.to_datetime(frame["period"])
        return frame.sort_values(keys, ignore_index=True)

    def data_bounds(self, source: TableRef) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """Earliest and latest value of the source's time column after its filter."""
        sql = base_select(source)
        with translate_errors("(data bounds)", source.name, sql):
            t = self._connection().sql(sql)
            time = t[source.time].cast("timestamp")
            row = t.aggregate(lo=time.min(), hi=time.max()).to_pandas().iloc[0]
        return _timestamp(row["lo"]), _timestamp(row["hi"])

    def fetch_events(self, table: str) -> pd.DataFrame:
        """The rows of a small table of known events (at most 10,000)."""
        with translate_errors("(events)", table, f"SELECT * FROM {table}"):
            return self._connection().table(table).limit(10_000).to_pandas()

    def ping(self) -> None:
        with translate_errors("(ping)", str(self.path), "SELECT 1"):
            self._connection().sql("SELECT 1 AS ok").to_pandas()

    def close(self) -> None:
        if self._con is not None:
            self._con.disconnect()
            self._con = None

    def __enter__(self) -> DuckDBSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _timestamp(value: object) -> pd.Timestamp | None:
    return None if pd.isna(value) else pd.Timestamp(value)
