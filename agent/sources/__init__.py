"""Warehouses: ``open_source(url)`` picks the Source class by the URL's scheme.

To add a warehouse Ibis speaks, subclass ``warehouses.UrlSource`` (or ``IbisSource``
when its connection is not a plain URL), whose constructor takes ``(url, *, base_dir)``,
and register its scheme in ``SOURCES``; the cube SQL is ``sql.build_cube_expr`` for all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from agent.errors import ConfigError
from agent.sources.base import CubeQuery, Source, TableRef
from agent.sources.duckdb import DuckDBSource
from agent.sources.ibis_source import IbisSource
from agent.sources.warehouses import (
    BigQuerySource,
    DatabricksSource,
    PostgresSource,
    SnowflakeSource,
    SparkConnectSource,
    SparkSource,
    TrinoSource,
)

__all__ = [
    "SOURCES",
    "CubeQuery",
    "DuckDBSource",
    "IbisSource",
    "Source",
    "TableRef",
    "open_source",
    "scheme_of",
]


class _Opener(Protocol):
    def __call__(self, url: str, /, *, base_dir: Path) -> Source: ...


SOURCES: dict[str, _Opener] = {
    "duckdb": DuckDBSource,
    "postgres": PostgresSource,
    "postgresql": PostgresSource,
    "spark": SparkSource,
    "sc": SparkConnectSource,
    "bigquery": BigQuerySource,
    "snowflake": SnowflakeSource,
    "trino": TrinoSource,
    "databricks": DatabricksSource,
}


def scheme_of(url: str) -> str:
    """The warehouse kind of a ``warehouse:`` URL; a bare ``*.duckdb`` path is DuckDB."""
    scheme, sep, _ = url.partition("://")
    if not sep and url.endswith(".duckdb"):
        return "duckdb"
    return scheme.lower() if sep else ""


def open_source(url: str, *, base_dir: Path) -> Source:
    """The Source for a ``warehouse:`` URL; relative DuckDB paths are relative to base_dir.

    Accepts ``duckdb:///relative.duckdb``, ``duckdb:////absolute.duckdb`` and a bare path
    ending in ``.duckdb``. An unknown scheme is a ConfigError listing the supported ones.
    """
    scheme = scheme_of(url)
    sep = "://" in url
    opener = SOURCES.get(scheme)
    if opener is None:
        supported = ", ".join(f"{name}://" for name in SOURCES)
        shown = f"scheme {scheme!r}" if sep else "a URL without scheme"
        raise ConfigError.setting(
            f"warehouse: {shown} is not supported",
            f"use one of {supported} (or a path ending in .duckdb)",
        )
    return opener(url, base_dir=base_dir)
