"""The same store on a PostgreSQL server: runs replace, one serve holds the lock."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from agent.schedule.lock import AlreadyServing, serve_lock
from agent.store import open_store
from agent.store.queries import metric_status
from agent.store.runs import record_run
from agent.store.schema import findings, runs
from tests.store.test_runs import HOW, _run
from tests.warehouses.conftest import (  # noqa: F401  (session fixtures)
    postgres_server,
    postgres_url,
)


def test_a_postgres_store_records_a_run_once_and_locks_serve(postgres_url: str) -> None:  # noqa: F811
    url = postgres_url.replace("postgres://", "postgresql+psycopg://", 1)
    store = open_store(url)
    record_run(store, _run(), HOW)
    record_run(store, _run(), HOW)
    with store.engine.connect() as conn:
        counts = [
            conn.execute(select(func.count()).select_from(t)).scalar() for t in (runs, findings)
        ]
    assert counts == [1, 1]
    assert metric_status(store, ["conversion"], HOW.finished_at)[0].open_episodes == 1
    other = open_store(url)
    with serve_lock(store), pytest.raises(AlreadyServing), serve_lock(other):
        pass
    with serve_lock(other):  # released when the first serve ends
        pass
    store.close()
    other.close()
