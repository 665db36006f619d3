"""The state store: runs, findings, episodes, causes, deliveries, silences, feedback.

``open_store(url)`` opens (and creates or migrates) the database; SQLite by default, any
SQLAlchemy URL (``postgresql+psycopg://…``) accepted. Writers use ``store.transaction()``
so that what one run records lands whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, Insert, create_engine, event, select
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry

from agent.errors import ConfigError, StoreError
from agent.store import schema

__all__ = ["DEFAULT_STORE", "Store", "StoreError", "insert_row", "open_store"]

DEFAULT_STORE = "sqlite:///state/cx-agent.db"
"""Relative SQLite paths are relative to the directory of metrics.yaml."""


class Store:
    """A connection pool to the state database, at the current schema version."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._install: str | None = None

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

    def install_id(self) -> str:
        """This install's random name (16 hex digits), made with its store: it goes into
        every delivery key, so two installs never send a message with the same id."""
        if self._install is None:
            with self.engine.connect() as conn:
                found = conn.execute(
                    select(schema.meta.c.value).where(schema.meta.c.key == "install_id")
                ).scalar_one()
            self._install = str(found)
        return self._install

    def close(self) -> None:
        self.engine.dispose()


def insert_row(conn: Connection, insert: Insert) -> int:
    """Run a one-row INSERT; the id the database gave the row."""
    key = conn.execute(insert).inserted_primary_key
    if key is None:  # SQLAlchemy has none only for an INSERT of many rows
        raise TypeError("insert_row inserts one row")
    return int(key[0])


def open_store(url: str = DEFAULT_STORE, *, base_dir: Path | None = None) -> Store:
    """Open the store at ``url``, creating its tables or migrating them forward.

    A SQLite file that is there but empty (truncated), damaged or read-only is refused
    with a StoreError naming it, here or at the first statement that meets it: a new
    store over it would forget the history and announce every open alert again."""
    from agent.store.migrations import migrate

    resolved = _resolve(url, base_dir)
    engine = create_engine(resolved)
    if engine.dialect.name == "sqlite" and (path := engine.url.database) not in (None, ":memory:"):
        _refuse_empty(Path(path))
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "handle_error", lambda context: _refused(context, path))
    store = Store(engine)
    try:
        migrate(store)
    except DBAPIError as exc:  # raised before any statement ran (a connect event)
        raise _store_error(exc, str(engine.url.database)) or exc from exc
    return store


_EMPTY = (
    "is empty (0 bytes): it was truncated, and a new store over it would forget the "
    "history and announce every open alert again"
)
_RESTORE = "restore it from a backup, or move it away to start a new, empty store"
_DAMAGED = ("file is not a database", "malformed", "disk image", "not an error")
_READ_ONLY = ("readonly", "read-only", "unable to open", "disk i/o error")


def _refuse_empty(path: Path) -> None:
    wal = path.with_name(path.name + "-wal")
    if path.is_file() and path.stat().st_size == 0 and not (wal.is_file() and wal.stat().st_size):
        raise StoreError(str(path), f"{_EMPTY} — {_RESTORE}")


def _store_error(exc: BaseException, path: str) -> StoreError | None:
    """What a SQLite error says about the store file, as a StoreError (None: not that)."""
    text = str(getattr(exc, "orig", exc)).lower()
    if any(word in text for word in _DAMAGED):
        return StoreError(path, f"is damaged ({text}) — {_RESTORE}")
    if any(word in text for word in _READ_ONLY):
        return StoreError(
            path,
            f"cannot be written ({text}) — let the user running cx-agent write the file "
            "and its folder (SQLite keeps a -wal and a -shm file beside it)",
        )
    return None


def _refused(context: ExceptionContext, path: str) -> None:
    """SQLAlchemy's ``handle_error`` hook: raise the StoreError an error means, if any."""
    error = _store_error(context.original_exception, path)
    if error is not None:
        raise error from context.original_exception


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


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    """Foreign keys (for cascades), WAL (a reader never blocks the scheduler), a busy wait.

    With WAL, ``synchronous=NORMAL`` syncs at checkpoints, not at every commit: a killed
    process loses no committed run; only a power cut may lose the last few."""
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: a killed process loses nothing committed
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
