"""The demo metrics.yaml, pointed at PostgreSQL, runs the whole loop as on DuckDB."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import cx_agent
from tests.warehouses.conftest import END, reports_on


def test_run_once_on_postgres_reports_what_duckdb_reports(
    postgres_demo: str, demo_duckdb: Path, tmp_path: Path
) -> None:
    def run(home: Path) -> int:
        done = cx_agent("run", "--once", "--as-of", END.isoformat(), "-m", "conversion", cwd=home)
        assert done.code in (0, 1, 2), done.err
        return done.code

    warehouses = {"postgres": postgres_demo, "duckdb": str(demo_duckdb)}
    reports = reports_on(warehouses, tmp_path, "conversion", run)
    assert reports["postgres"] == reports["duckdb"]
