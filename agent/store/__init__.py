"""The state store: runs, findings, episodes, causes, deliveries, silences, feedback.

``open_store(url)`` opens (and creates or migrates) the database; SQLite by default, any
SQLAlchemy URL (``postgresql+psycopg://…``) accepted. Writers use ``store.transaction()``
so that what one run records lands whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, select

from agent.errors import ConfigError
from agent.store import schema

__all__ = ["DEFAULT_STORE", "Store", "open_store"]

DEFAULT_STORE = "sqlite:///state/cx-agent.db"
"""Relative SQLite paths are relative to the directory of metrics.yaml."""


class Store:
    """A connection pool to the state database, at the current schema version."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.engine.begin() as conn:
            yield conn

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
            ).first()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str = DEFAULT_STORE, *, base_dir: Path | None = None) -> Store:
    """Open the store at ``url``, creating its tables or migrating them forward."""
    from agent.store.migrations import migrate

    engine = create_engine(_resolve(url, base_dir))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    store = Store(engine)
    migrate(store)
    return store


def _resolve(url: str, base_dir: Path | None) -> str:
    """Make a relative SQLite path absolute under ``base_dir`` and create its folder."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == "sqlite:///:memory:":
        return url
    path = Path(url.removeprefix(prefix))
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError.setting(
            f"store: cannot create {path.parent} ({exc.strerror})",
            "point store: at a writable sqlite:///path/to/cx-agent.db",
        ) from exc
    return prefix + str(path)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    """Foreign keys (for cascades), WAL (a reader never blocks the scheduler), a busy wait.

    With WAL, ``synchronous=NORMAL`` syncs at checkpoints, not at every commit: a killed
    process loses no committed run; only a power cut may lose the last few."""
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: a killed process loses nothing committed
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
