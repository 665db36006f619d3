"""``cx-agent status`` and ``history`` as a user (or a monitoring probe) calls them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from agent.store import open_store
from agent.store.runs import record_failure, record_run
from tests.conftest import cx_agent
from tests.store.test_runs import HOW, _run

CONFIG = """\
version: 1
warehouse: duckdb:///warehouse.duckdb
sources:
  activity: {table: events, time: event_time}
metrics:
  conversion: {title: Conversion, source: activity, kind: count}
  visits: {title: Visits, source: activity, kind: count}
"""


def _home(tmp_path: Path) -> Path:
    (tmp_path / "metrics.yaml").write_text(CONFIG)
    return tmp_path


def test_status_exits_1_and_says_why_when_a_metric_keeps_failing(tmp_path: Path) -> None:
    store = open_store("sqlite:///state/cx-agent.db", base_dir=_home(tmp_path))
    record_run(store, _run(), HOW)
    for _ in range(3):
        record_failure(store, "visits", "source 'activity' failed: no such table", datetime.now())
    result = cx_agent("status", cwd=tmp_path)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[1].split()[:4] == ["conversion", "2026-11-20", "findings", "(critical)"]
    assert lines[2].split()[:4] == ["visits", "-", "failed", "(3x)"]
    assert lines[-1].startswith("STUCK visits: the latest run failed (serve, ")
    assert lines[-1].endswith(", 3 in a row): source 'activity' failed: no such table")


def test_status_of_a_new_store_is_fine_and_history_is_empty(tmp_path: Path) -> None:
    result = cx_agent("status", cwd=_home(tmp_path))
    assert result.code == 0, result.err
    assert "never run" in result.out and result.out.splitlines()[-1] == "Nothing is stuck."
    history = cx_agent("history", "conversion", cwd=tmp_path)
    assert history.out == "conversion: no episodes recorded yet\n"


def test_history_lists_recorded_episodes(tmp_path: Path) -> None:
    store = open_store("sqlite:///state/cx-agent.db", base_dir=_home(tmp_path))
    record_run(store, _run(), HOW)
    result = cx_agent("history", "conversion", cwd=tmp_path)
    assert result.code == 0, result.err
    assert result.out.splitlines()[1].split() == [
        "conversion#1",  # what `cx-agent feedback` takes
        "2026-11-18",
        "2026-11-20",
        "3",
        "new",
        "critical",
        "all",
        "customers",
        "(down)",
    ]
