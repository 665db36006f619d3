"""Forward migrations of the state store: each step takes version N to N + 1.

A new store gets every table at the current version at once. An older store is moved
forward one step at a time, each step in its own transaction, so an interrupted upgrade
resumes where it stopped. A store newer than this cx-agent is refused, not damaged.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text, update

from agent.errors import ConfigError
from agent.store import schema
from agent.store.schema import SCHEMA_VERSION

if TYPE_CHECKING:
    from agent.store import Store


def _failures_kept(conn: Connection) -> None:
    """1 → 2: job_health keeps the last failure (when, and in which command)."""
    for column in ("last_failure", "failed_in"):
        kind = schema.job_health.c[column].type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE job_health ADD COLUMN {column} {kind}"))
    conn.execute(
        update(schema.job_health)
        .where(schema.job_health.c.last_error.is_not(None))
        .values(last_failure=schema.job_health.c.last_attempt, failed_in="serve")
    )


def _incidents(conn: Connection) -> None:
    """2 → 3: an episode keeps its id when its onset moves (``first_seen`` beside
    ``since``), holds every segment of its incident (``segments``), and the store an
    ``install_id``. Existing episodes keep their ids; their ``segments`` read as NULL
    (just ``segment``) and ``first_seen`` as their onset."""
    e = schema.episodes.c
    for column in (e.segments, e.first_seen):
        kind = column.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE episodes ADD COLUMN {column.name} {kind}"))
    conn.execute(schema.episodes.update().values(first_seen=e.since))
    _set_install_id(conn)


STEPS: dict[int, Callable[[Connection], None]] = {1: _failures_kept, 2: _incidents}
"""``STEPS[n]`` migrates a store at version ``n`` to ``n + 1``."""


def migrate(store: Store) -> None:
    """Create the tables of a new store, or move an existing one to SCHEMA_VERSION."""
    if not inspect(store.engine).has_table("meta"):
        with store.transaction() as conn:
            schema.metadata.create_all(conn)
            _set_version(conn, SCHEMA_VERSION)
            _set_install_id(conn)
        return
    version = store.schema_version()
    if version > SCHEMA_VERSION:
        raise ConfigError.setting(
            f"store: schema version {version} is newer than this cx-agent "
            f"understands ({SCHEMA_VERSION})",
            "upgrade cx-agent, or point store: at another database",
        )
    for step in range(version, SCHEMA_VERSION):
        with store.transaction() as conn:
            STEPS[step](conn)
            _set_version(conn, step + 1)


def _set_version(conn: Connection, version: int) -> None:
    table = schema.meta
    conn.execute(table.delete().where(table.c.key == "schema_version"))
    conn.execute(table.insert().values(key="schema_version", value=str(version)))


def _set_install_id(conn: Connection) -> None:
    """A random name for this install, made once with its store."""
    conn.execute(schema.meta.insert().values(key="install_id", value=secrets.token_hex(8)))
