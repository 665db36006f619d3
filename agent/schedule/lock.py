"""One ``cx-agent serve`` per store: a second one would run every metric twice.

SQLite stores are locked with an OS file lock next to the database (``filelock``, an
``flock`` the kernel releases when the process dies, even by SIGKILL, so a crash never
leaves a stale lock); the holder's pid is written beside it for the refusal to name.
Postgres stores use a session advisory lock, released the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import text

from agent.errors import AgentError
from agent.store import Store

__all__ = ["AlreadyServing", "serve_lock"]

ADVISORY_KEY = 7_346_551_201
"""The Postgres advisory lock id of ``cx-agent serve``."""


class AlreadyServing(AgentError):
    """Another ``cx-agent serve`` holds the store."""

    def __init__(self, where: str, holder: str) -> None:
        super().__init__(f"another cx-agent serve{holder} is already running on {where}")
        self.where, self.holder = where, holder

    def lines(self) -> list[str]:
        return [
            f"error: {self} — stop it first (one serve per store), or point store: in "
            "metrics.yaml at another database"
        ]


@contextmanager
def serve_lock(store: Store) -> Iterator[None]:
    """Hold the store's serve lock for the block, or raise AlreadyServing at once."""
    url = store.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        with _file_lock(Path(f"{url.database}.serve.lock"), url.database):
            yield
    elif url.get_backend_name() == "postgresql":
        with _advisory_lock(store):
            yield
    else:
        yield


@contextmanager
def _file_lock(path: Path, database: str) -> Iterator[None]:
    holder = path.with_name(f"{path.name}.pid")
    lock = FileLock(path, blocking=False)
    try:
        lock.acquire()
    except Timeout:
        pid = holder.read_text(encoding="utf-8").strip() if holder.is_file() else ""
        raise AlreadyServing(database, _pid(pid)) from None
    try:
        holder.write_text(str(os.getpid()), encoding="utf-8")
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


@contextmanager
def _advisory_lock(store: Store) -> Iterator[None]:
    with store.engine.connect() as conn:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
        if not got:
            raise AlreadyServing(store.engine.url.render_as_string(hide_password=True), "")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})


def _pid(text: str) -> str:
    return f" (pid {text})" if text.isdigit() else ""
