"""DuckDBSource: the default warehouse, an embedded DuckDB file opened read-only.

DuckDB settings ride on the URL's query string, e.g.
``duckdb:///warehouse.duckdb?memory_limit=2GB&threads=4&temp_directory=/var/tmp/cx``.
``memory_limit`` defaults to 256MB so the agent stays small beside whatever else runs on
its machine: larger aggregations spill to ``temp_directory`` instead of growing. Unless
the URL names one, that is a directory of the connection's own under the system's
temporary folder, removed when it exits: DuckDB's own default, ``<file>.tmp`` next to
the warehouse, is shared by every process reading the file, and two runs at once
(``serve`` and a manual ``run``) would delete each other's spilled blocks.
``threads`` defaults to DuckDB's own (every core); DuckDB's progress bar is off, as
an agent's output is a log. Any DuckDB setting is accepted but the two cx-agent sets
last on every connection: external access off (no query can read a file, a URL or an
extension) and the configuration locked.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qsl

import ibis

from agent.errors import ConfigError
from agent.sources.ibis_source import IbisSource

__all__ = ["DEFAULT_SETTINGS", "LOCKED", "DuckDBSource", "duckdb_path", "duckdb_settings"]

DEFAULT_SETTINGS = {"memory_limit": "256MB", "enable_progress_bar": "false"}
LOCKED = {"enable_external_access": "false", "lock_configuration": "true"}
"""Set last on every connection: no file, URL or extension can be read by a query, and
no query can change a setting back."""


def duckdb_path(url_or_path: str | Path, base_dir: Path) -> Path:
    """``duckdb:///rel.duckdb`` (relative to base_dir), ``duckdb:////abs.duckdb`` or a path."""
    text = str(url_or_path)
    if text.startswith("duckdb://"):
        text = text.partition("?")[0].removeprefix("duckdb://").removeprefix("/")
    path = Path(text).expanduser()
    return path if path.is_absolute() else base_dir / path


def duckdb_settings(url_or_path: str | Path) -> dict[str, str]:
    """DuckDB settings: the defaults, overridden by a ``duckdb://`` URL's query string."""
    text = str(url_or_path)
    query = text.partition("?")[2] if text.startswith("duckdb://") else ""
    settings = DEFAULT_SETTINGS | dict(parse_qsl(query, keep_blank_values=True))
    bad = [name for name in settings if not name.isidentifier()]
    if bad:
        message = f"warehouse: {bad[0]!r} is not a DuckDB setting name"
        hint = "write duckdb:///file.duckdb?memory_limit=2GB&threads=4"
        raise ConfigError.setting(message, hint)
    locked = [name for name in settings if name.lower() in LOCKED]
    if locked:
        message = (
            f"warehouse: {locked[0]!r} is cx-agent's to set (file access off, settings locked)"
        )
        raise ConfigError.setting(message, f"remove {locked[0]} from the warehouse URL")
    return settings


class DuckDBSource(IbisSource):
    """A DuckDB file, opened read-only on first use; a missing file is never created."""

    dialect: ClassVar[str] = "duckdb"

    def __init__(self, url_or_path: str | Path, *, base_dir: Path | None = None) -> None:
        self.path = duckdb_path(url_or_path, base_dir or Path.cwd())
        self.settings = duckdb_settings(url_or_path)
        super().__init__(str(self.path))

    def place(self) -> str:
        return self.path.name

    def _open(self) -> ibis.BaseBackend:
        """A DuckDB instance of this source's own, the file attached read-only to it.

        Its own instance, not a connection to the file's (DuckDB shares one instance per
        file in a process): the instance's settings end locked, with file access off,
        and a locked instance would refuse every later connection's session settings.
        """
        if not self.path.is_file():
            raise FileNotFoundError(
                f"DuckDB file {self.path} does not exist: run `cx-agent demo` to create "
                "the demo warehouse, or fix `warehouse:` in metrics.yaml"
            )
        con = ibis.duckdb.connect()
        catalog = _catalog_name(self.path)
        con.raw_sql(f"ATTACH {_quoted(str(self.path))} AS {catalog} (READ_ONLY)")
        con.raw_sql(f"USE {catalog}")
        spill = tempfile.mkdtemp(dir=_spill_dir())
        for name, value in ({"temp_directory": spill} | self.settings | LOCKED).items():
            con.raw_sql(f"SET {name} = {_quoted(value)}")
        return con


def _catalog_name(path: Path) -> str:
    """The attached file's catalog: its stem, as when DuckDB opens the file itself."""
    stem = path.stem if path.stem.lower() not in ("memory", "system", "temp") else "warehouse"
    return '"' + stem.replace('"', '""') + '"'


@functools.cache
def _spill_dir() -> str:
    """This process's own ``temp_directory``, removed when it exits. One per process, not
    per connection: connections to the same file in one process share a DuckDB instance."""
    path = tempfile.mkdtemp(prefix="cx-agent-duckdb-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
