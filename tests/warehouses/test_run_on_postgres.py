"""The demo metrics.yaml, pointed at PostgreSQL, runs the whole loop as on DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import cx_agent
from tests.warehouses.conftest import END, metrics_for


def test_run_once_on_postgres_reports_what_duckdb_reports(
    postgres_demo: str, demo_duckdb: Path, tmp_path: Path
) -> None:
    reports = {}
    for engine, url in (("postgres", postgres_demo), ("duckdb", str(demo_duckdb))):
        (tmp_path / engine).mkdir()
        metrics_for(url, tmp_path / engine)
        done = cx_agent(
            "run", "--once", "--as-of", END.isoformat(), "-m", "conversion", cwd=tmp_path / engine
        )
        assert done.code in (0, 1, 2), done.err
        path = tmp_path / engine / "reports" / END.isoformat() / "conversion.json"
        reports[engine] = json.loads(path.read_text(encoding="utf-8"))
    assert reports["postgres"] == reports["duckdb"]
