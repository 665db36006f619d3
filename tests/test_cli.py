"""What a user sees at the shell: one-line messages and exit codes, never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

from agent.sources.demo import generate
from tests.conftest import REPO, cx_agent

BROKEN = """\
version: 1
timezone: Asia/Sel
warehouse: duckdb:///w.duckdb
sources:
  visits: {table: events, time: event_time, entity: customer_id}
metrics:
  revisit_rate:
    title: Revisit rate
    source: visit
    kind: returning
    lookback: 30 dys
    grain: daily
    dimensons: [channel]
"""


def test_validate_prints_each_metric_with_next_runs(tmp_path: Path) -> None:
    shutil.copy(REPO / "metrics.yaml", tmp_path / "metrics.yaml")
    result = cx_agent("validate", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "7 metrics OK (timezone Asia/Seoul)" in result.out
    premium_share = next(line for line in result.out.splitlines() if "premium_share" in line)
    assert premium_share.count("Mon ") == 3  # "0 9 * * 1" runs on Mondays
    assert result.out.splitlines()[-1] == (
        "warehouse (duckdb): not contacted; `cx-agent validate --connect` checks it answers "
        "and has every table and column"
    )


def test_five_mistakes_five_lines_exit_3(tmp_path: Path) -> None:
    (tmp_path / "metrics.yaml").write_text(BROKEN)
    result = cx_agent("validate", cwd=tmp_path)
    assert result.code == 3
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert [line.split(":")[1] for line in lines] == ["2", "9", "11", "12", "13"]
    assert "did you mean `dimensions`?" in lines[-1]
    assert lines[1].startswith("metrics.yaml:9: revisit_rate: metrics.revisit_rate.source")


def test_unknown_metric_and_bad_date_are_one_line(tmp_path: Path) -> None:
    shutil.copy(REPO / "metrics.yaml", tmp_path / "metrics.yaml")
    result = cx_agent("run", "--once", "--metric", "nope", cwd=tmp_path)
    assert result.code == 3
    assert result.err.strip().splitlines() == [
        "error: Invalid value: nope not in metrics.yaml; metrics: revisit_rate, premium_churn,"
        " conversion, payment_success, average_order_value, nps, premium_share"
    ]
    result = cx_agent("run", "--once", "--as-of", "yesterday", cwd=tmp_path)
    assert result.code == 3 and "'yesterday' is not a date; write YYYY-MM-DD" in result.err


def test_run_without_once_says_what_it_does_and_runs_nothing(tmp_path: Path) -> None:
    shutil.copy(REPO / "metrics.yaml", tmp_path / "metrics.yaml")
    result = cx_agent("run", cwd=tmp_path)
    assert result.code == 3 and "Traceback" not in result.err
    assert "add --once to run every metric once now" in result.err
    assert "cx-agent serve" in result.err
    assert not (tmp_path / "state").exists() and not (tmp_path / "reports").exists()


def test_a_day_whose_data_cannot_be_there_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    """``--as-of 2030-01-01`` used to send a real "data late" alert and leave a run in
    2030 in the store; a day before the first row judged periods with no data."""
    shutil.copy(REPO / "metrics.yaml", tmp_path / "metrics.yaml")
    (tmp_path / "demo").mkdir()
    generate(tmp_path / "demo" / "warehouse.duckdb", end=date(2025, 6, 30), customers=500)

    future = cx_agent("run", "--once", "--as-of", "2030-01-01", cwd=tmp_path)
    backfill = cx_agent("backfill", "--start", "2025-06-01", "--end", "2030-01-01", cwd=tmp_path)
    before = cx_agent("run", "--once", "--as-of", "2020-01-01", cwd=tmp_path)

    assert future.code == 3 and future.out == ""
    assert future.err.startswith("error: Invalid value: --as-of 2030-01-01 is later than today (")
    assert backfill.code == 3 and "--end 2030-01-01 is later than today" in backfill.err
    assert before.code == 3 and before.out == ""
    assert before.err.startswith(
        "error: Invalid value: --as-of 2020-01-01 is before the warehouse's first row (2024-"
    )
    assert not (tmp_path / "reports").exists()


def test_missing_warehouse_is_a_runtime_error_naming_the_fix(tmp_path: Path) -> None:
    shutil.copy(REPO / "metrics.yaml", tmp_path / "metrics.yaml")
    result = cx_agent("run", "--once", "--as-of", "2026-11-20", cwd=tmp_path)
    assert result.code == 4
    assert "Traceback" not in result.err
    assert "cx-agent demo" in result.err
    assert len(result.err.splitlines()) == 3  # the error, the metrics not run, the count
    assert not (tmp_path / "demo" / "warehouse.duckdb").exists()


def test_validate_checks_the_warehouse_url_and_shows_its_line(tmp_path: Path) -> None:
    text = (REPO / "metrics.yaml").read_text(encoding="utf-8")
    line = next(n for n, x in enumerate(text.splitlines(), 1) if x.startswith("warehouse:"))
    prod = tmp_path / "prod.yaml"
    for url, says in [
        ("mysql://cx:secret@db/cx", "scheme 'mysql' is not supported — use one of duckdb://"),
        ("duckdb:///w.duckdb?memory limit=1GB", "'memory limit' is not a DuckDB setting name"),
    ]:
        prod.write_text(
            text.replace("warehouse: duckdb:///demo/warehouse.duckdb", f"warehouse: {url}")
        )
        result = cx_agent("validate", "-c", "prod.yaml", cwd=tmp_path)
        assert result.code == 3 and result.out == ""
        assert result.err.startswith(f"prod.yaml:{line}: warehouse: {says}")
        assert "secret" not in result.err


def test_a_store_that_cannot_be_created_is_shown_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    text = (REPO / "metrics.yaml").read_text(encoding="utf-8")
    (tmp_path / "prod.yaml").write_text(f"{text}store: sqlite:///file/state.db\n")
    result = cx_agent("status", "-c", "prod.yaml", cwd=tmp_path)
    assert result.code == 3
    line = len(text.splitlines()) + 1
    assert result.err.startswith(f"prod.yaml:{line}: store: cannot create {tmp_path / 'file'}")


def test_commands_start_without_the_statistics_and_plotting_libraries() -> None:
    """They load when a run first detects, attributes or draws: every command starts in
    half the time, and a run's warehouse queries peak 100 MB lower."""
    heavy = {"scipy", "statsmodels", "matplotlib"}
    probe = "import json, sys, agent.cli; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert "agent" in loaded
    assert not heavy & loaded


def test_debug_before_the_command_adds_the_traceback_to_the_same_error(tmp_path: Path) -> None:
    plain = cx_agent("run", "--once", "-c", "missing.yaml", cwd=tmp_path)
    debug = cx_agent("--debug", "run", "--once", "-c", "missing.yaml", cwd=tmp_path)
    assert plain.code == debug.code == 3
    assert "Traceback" not in plain.err and "Traceback" in debug.err
    assert plain.err.strip().splitlines()[-1] == debug.err.strip().splitlines()[-1]
