"""Warehouses other than DuckDB, each behind an install extra of cx-agent.

``postgres://``, ``bigquery://``, ``snowflake://`` and ``trino://`` URLs go to
``ibis.connect`` as written (``postgresql://`` is read as ``postgres://``);
``databricks://`` is taken apart into the connector's arguments (``DatabricksSource``);
``spark://`` builds a SparkSession (see ``SparkSource``), ``sc://`` opens a Spark Connect
session on a remote cluster (``SparkConnectSource``). A missing driver is a
ConfigError naming the extra to install, raised before anything connects.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import ClassVar
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

import ibis
import ibis.expr.types as ir
import pandas as pd

from agent.errors import ConfigError
from agent.sources.ibis_source import IbisSource, require_driver

__all__ = [
    "BigQuerySource",
    "DatabricksSource",
    "PostgresSource",
    "SnowflakeSource",
    "SparkConnectSource",
    "SparkSource",
    "TrinoSource",
    "UrlSource",
    "checked_url",
    "databricks_arguments",
]


_URL_HINT = (
    "write the password through a variable (postgres://cx:${PG_PASSWORD}@host:5432/db): "
    "cx-agent percent-encodes it, so any password works; written in the file itself, "
    "percent-encode @ : / ? # % in user and password (%40 %3A %2F %3F %23 %25)"
)


def checked_url(url: str) -> SplitResult:
    """``url`` taken apart, or a ConfigError naming the part that is wrong. The message
    never repeats any of the URL: a password that broke it would show in it."""
    parts = urlsplit(url)
    scheme = parts.scheme
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        message = f"warehouse: the port of the {scheme}:// URL is not a number from 0 to 65535"
        raise ConfigError.setting(message, _URL_HINT) from None
    after_host = url.partition("://")[2][len(parts.netloc) :]
    if "@" in after_host and "@" not in parts.netloc:
        message = f"warehouse: the {scheme}:// URL has an @ after its host"
        raise ConfigError.setting(message, _URL_HINT)
    return parts


class UrlSource(IbisSource):
    """A warehouse ``ibis.connect`` opens from its URL; subclasses name scheme and driver."""

    dialect: ClassVar[str]
    driver: ClassVar[str]  # the module the Ibis backend imports
    extra: ClassVar[str]  # pip install 'cx-agent[extra]'
    default_port: ClassVar[int | None] = None

    def __init__(self, url: str, *, base_dir: Path | None = None) -> None:
        require_driver(self.dialect, self.driver, self.extra)
        rest = url.partition("://")[2]
        self.url = f"{self.dialect}://{rest}"
        parts = checked_url(self.url)
        port = parts.port or self.default_port
        host = parts.hostname or "localhost"
        super().__init__(f"{host}:{port}" if port else host)

    def _open(self) -> ibis.BaseBackend:
        # Ibis decodes a percent-encoded password but passes the user name on as written
        user = urlsplit(self.url).username
        return ibis.connect(self.url, **({"user": unquote(user)} if user else {}))


class PostgresSource(UrlSource):
    """``postgres://user:password@host:5432/database[/schema]``."""

    dialect, driver, extra = "postgres", "psycopg", "postgres"
    default_port = 5432


class BigQuerySource(UrlSource):
    """``bigquery://project/dataset`` (credentials from the environment)."""

    dialect, driver, extra = "bigquery", "google.cloud.bigquery", "bigquery"


class SnowflakeSource(UrlSource):
    """``snowflake://user:password@account/database/schema?warehouse=WH``."""

    dialect, driver, extra = "snowflake", "snowflake.connector", "snowflake"


class TrinoSource(UrlSource):
    """``trino://user@host:8080/catalog/schema``."""

    dialect, driver, extra = "trino", "trino", "trino"


class DatabricksSource(UrlSource):
    """``databricks://token:TOKEN@HOST?http_path=PATH[&catalog=C&schema=S]``, the URL of
    Databricks' own SQLAlchemy dialect. Ibis reads a Databricks URL as a file path, so
    the URL is taken apart here (see :func:`databricks_arguments`)."""

    dialect, driver, extra = "databricks", "databricks.sql", "databricks"

    def __init__(self, url: str, *, base_dir: Path | None = None) -> None:
        super().__init__(url, base_dir=base_dir)
        self.arguments = databricks_arguments(self.url)

    def _open(self) -> ibis.BaseBackend:
        return ibis.databricks.connect(**self.arguments)


_DATABRICKS_ENV = {
    "server_hostname": "DATABRICKS_SERVER_HOSTNAME",
    "http_path": "DATABRICKS_HTTP_PATH",
}
_DATABRICKS_QUERY = ("http_path", "catalog", "schema")
_DATABRICKS_HINT = (
    "write databricks://token:${DATABRICKS_TOKEN}@<workspace host>"
    "?http_path=/sql/1.0/warehouses/<id>&catalog=<catalog>&schema=<schema>"
)


def databricks_arguments(url: str) -> dict[str, str]:
    """Ibis' ``databricks.connect`` arguments of a ``databricks://`` URL.

    The host is the workspace (``server_hostname``), the password the access token,
    the query string holds ``http_path`` (the SQL warehouse's), ``catalog`` and
    ``schema``. Host and HTTP path may come from Databricks' own environment variables
    instead; missing both ways, the URL is refused here rather than by a connection
    error naming neither.
    """
    parts = urlsplit(url)
    arguments = dict(parse_qsl(parts.query))
    unknown = sorted(set(arguments) - set(_DATABRICKS_QUERY))
    if unknown:
        known = ", ".join(_DATABRICKS_QUERY)
        message = f"warehouse: the databricks:// URL's {unknown[0]!r} is not one of {known}"
        raise ConfigError.setting(message, _DATABRICKS_HINT)
    if parts.hostname:
        arguments["server_hostname"] = parts.hostname
    if parts.password:
        arguments["access_token"] = unquote(parts.password)
    for name, variable in _DATABRICKS_ENV.items():
        if name not in arguments and not os.environ.get(variable):
            message = f"warehouse: the databricks:// URL has no {name} (nor is ${variable} set)"
            raise ConfigError.setting(message, _DATABRICKS_HINT)
    return arguments


def _master(netloc: str) -> str:
    """Spark master of a ``spark://`` URL's host part: local mode, YARN or a cluster."""
    if netloc in ("", "local"):
        return "local[*]"
    if netloc == "yarn":
        return netloc
    return f"spark://{netloc}"


class SparkSource(IbisSource):
    """Spark SQL through PySpark: ``spark://local`` (local mode, every core),
    ``spark://yarn`` or ``spark://master-host:7077``; query parameters are Spark
    settings (``?spark.sql.shuffle.partitions=64``, ``?spark.master=local[2]``).

    When the process already has an active SparkSession (a notebook, a job running
    cx-agent inside Spark), that session is used and left running on close.
    """

    dialect: ClassVar[str] = "spark"

    def __init__(self, url: str, *, base_dir: Path | None = None) -> None:
        require_driver("spark", "pyspark", "spark")
        parts = urlsplit(url)
        self.master = _master(parts.netloc)
        self.settings = dict(parse_qsl(parts.query))
        self._owns_session = False
        super().__init__(f"spark ({self.master})")

    def _open(self) -> ibis.BaseBackend:
        from pyspark.sql import SparkSession

        session = SparkSession.getActiveSession()
        if session is None:
            builder = SparkSession.builder.master(self.master).appName("cx-agent")
            defaults = {"spark.ui.showConsoleProgress": "false"}
            for key, value in (defaults | self.settings).items():
                builder = builder.config(key, value)
            session = builder.getOrCreate()
            self._owns_session = True
        return ibis.pyspark.connect(session)

    def _disconnect(self, con: ibis.BaseBackend) -> None:
        if self._owns_session:
            con.disconnect()

    def _collect(self, expr: ir.Table) -> pd.DataFrame:
        # PySpark 4.0's toPandas passes pandas 3 a deprecated ``copy=`` argument.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="pyspark")
            frame: pd.DataFrame = expr.to_pandas()  # Ibis has no type hints
        return frame


class SparkConnectSource(SparkSource):
    """Spark Connect: ``sc://host:15002``, with Spark Connect's own parameters after
    ``/;`` (``sc://host:443/;token=${SPARK_TOKEN};use_ssl=true``). The queries run on
    the remote cluster; this process needs no Java, only the thin client.
    """

    def __init__(self, url: str, *, base_dir: Path | None = None) -> None:
        for module in ("pyspark", "grpc"):
            require_driver("sc", module, "spark-connect")
        self.remote = url
        self._owns_session = True
        IbisSource.__init__(self, f"spark connect ({urlsplit(url).netloc})")

    def _open(self) -> ibis.BaseBackend:
        # Spark Connect's own session class: pyspark.sql.SparkSession.builder.remote would
        # switch the whole process to Connect mode, hiding a notebook's local session
        from pyspark.sql.connect.session import SparkSession

        return ibis.pyspark.connect(SparkSession.builder.remote(self.remote).create())

    def _collect(self, expr: ir.Table) -> pd.DataFrame:
        # Ibis uploads in-memory tables (churn's calendar) with ``verifySchema``, which
        # Spark Connect ignores, saying so in a warning
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "'verifySchema' is ignored", UserWarning)
            return super()._collect(expr)
