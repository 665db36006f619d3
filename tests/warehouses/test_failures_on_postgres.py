"""One failure stays one failure, on the suite's real PostgreSQL server.

A source whose table is missing stops only its metrics; the server stopped mid-run
is one error, with the metrics before it reported; ``status`` says what failed and
exits 1; any password works through ``${VAR}``, and a URL that cannot be read is
refused at its line without repeating any of its credentials.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import REPO, Result, cx_agent
from tests.warehouses.conftest import END, PostgresServer, metrics_for

PASSWORD = "p@ss:w/rd#1%"
RUN = ("run", "--once", "--as-of", END.isoformat())
THREE = ("-m", "conversion", "-m", "nps", "-m", "premium_share")
"""Metrics on two sources, in this order: the failing one has one before and one after."""


def _home(tmp_path: Path, url: str, *edits: tuple[str, str]) -> Path:
    metrics_for(url, tmp_path)
    path = tmp_path / "metrics.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return tmp_path


def _lines(result: Result) -> dict[str, str]:
    """Each metric's stdout line of a run, by metric."""
    return {line.split()[0]: line for line in result.out.splitlines() if line[:1].isalpha()}


def _report(home: Path, metric: str) -> Path:
    return home / "reports" / END.isoformat() / f"{metric}.json"


def test_a_missing_table_stops_only_its_metrics_and_status_names_it(
    postgres_demo: str, tmp_path: Path
) -> None:
    home = _home(tmp_path, postgres_demo, ("table: customer_nps", "table: customer_npss"))

    done = cx_agent(*RUN, *THREE, cwd=home)
    status = cx_agent("status", cwd=home)
    debug = cx_agent("--debug", *RUN, "-m", "nps", cwd=home)
    backfill = cx_agent(
        "backfill", "--start", "2025-06-28", "--end", END.isoformat(), *THREE[:4], cwd=home
    )

    assert done.code == 4, done.err
    assert _report(home, "conversion").is_file() and _report(home, "premium_share").is_file()
    assert not _report(home, "nps").exists()
    assert _lines(done)["nps"].split()[1:] == [END.isoformat(), "failed", "(see", "below)"]
    assert done.err.splitlines() == [
        "nps: while finding the newest data of source 'nps': table customer_npss not found "
        "in postgres — did you mean customer_nps?",
        "1 of 3 metrics failed; the other 2 ran and their results stand",
    ]
    assert "SELECT" not in done.out + done.err
    assert "the query was: SELECT * FROM customer_npss" in debug.err
    assert status.code == 1
    stuck = [line for line in status.out.splitlines() if line.startswith("STUCK")]
    assert len(stuck) == 1 and stuck[0].startswith("STUCK nps: the latest run failed (run --once")
    assert stuck[0].endswith("did you mean customer_nps?")
    assert backfill.code == 4 and "conversion" in backfill.out and "nps" not in backfill.out
    assert backfill.err.splitlines()[0].startswith("nps: while finding the newest data")


@pytest.fixture
def restarted(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """The server, started again after the test whatever it did to it."""
    yield postgres_server
    with contextlib.suppress(subprocess.CalledProcessError):
        postgres_server.stop()  # if the test did not
    postgres_server.start()


def test_the_server_stopped_mid_run_is_one_error_after_the_metrics_it_served(
    postgres_demo: str, restarted: PostgresServer, tmp_path: Path
) -> None:
    home = _home(tmp_path, postgres_demo)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CX_AGENT_")}
    env |= {"PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", *RUN, *THREE],
        cwd=home,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # conversion is done: its line is out
    proc.send_signal(signal.SIGSTOP)  # hold the run while the server goes down
    restarted.stop()
    proc.send_signal(signal.SIGCONT)
    rest, err = proc.communicate(timeout=600)
    done = Result(proc.returncode, first + rest, err)
    status = cx_agent("status", cwd=home)

    assert done.code == 4, done.err
    lines = _lines(done)
    assert lines["conversion"].split()[2] == "ok" and _report(home, "conversion").is_file()
    assert lines["premium_share"].split()[2] == "failed"
    assert not _report(home, "premium_share").exists()
    address = restarted.url.split("@")[1].split("/")[0]
    errors = done.err.splitlines()
    assert sum(address in line for line in errors) == 1  # one error, not one per metric
    assert f"could not reach the warehouse at {address} (connection refused)" in done.err or (
        f"lost the connection to the warehouse at {address}" in done.err
    )
    assert errors[-1].endswith("the other 1 ran and their results stand")
    assert status.code == 1
    stuck = {line.split()[1] for line in status.out.splitlines() if line.startswith("STUCK")}
    assert stuck == {"nps:", "premium_share:"}


@pytest.fixture(scope="module")
def reader(postgres_demo: str) -> str:
    """A role with the password ``PASSWORD`` that may read the demo tables."""
    with psycopg.connect(postgres_demo.replace("postgres://", "postgresql://")) as con:
        con.execute(f"CREATE ROLE reader LOGIN PASSWORD '{PASSWORD}'")
        con.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    return postgres_demo.replace("postgres://cx@", "postgres://reader:${PG_PASSWORD}@")


def test_any_password_works_through_a_variable(
    reader: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _home(tmp_path, reader)
    monkeypatch.setenv("PG_PASSWORD", PASSWORD)

    checked = cx_agent("validate", "--connect", cwd=home)
    done = cx_agent(*RUN, "-m", "conversion", cwd=home)
    monkeypatch.setenv("PG_PASSWORD", "not-it")
    refused = cx_agent("validate", "--connect", cwd=home)

    assert checked.code == 0, checked.err
    assert "warehouse (postgres): reachable; every table and column found" in checked.out
    assert done.code in (0, 1, 2), done.err
    assert _report(home, "conversion").is_file()
    assert refused.code == 4
    assert refused.err.endswith("refused the login of user reader (check user and password)\n")
    for result in (checked, done, refused):
        assert PASSWORD not in result.out + result.err


def test_a_url_that_cannot_be_read_is_refused_at_its_line_without_its_credentials(
    reader: str, tmp_path: Path
) -> None:
    home = _home(tmp_path, reader.replace("${PG_PASSWORD}", PASSWORD))
    lines = (home / "metrics.yaml").read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.startswith("warehouse:"))

    results = [
        cx_agent("validate", cwd=home),
        cx_agent("validate", "--connect", cwd=home),
        cx_agent(*RUN, cwd=home),
        cx_agent("backfill", "--start", "2025-06-01", "--end", END.isoformat(), cwd=home),
    ]

    for result in results:
        assert result.code == 3 and result.out == ""
        assert result.err.startswith(
            f"metrics.yaml:{line}: warehouse: the port of the postgres:// URL is not a number"
        )
        assert "${PG_PASSWORD}" in result.err  # the hint: how to write it
        shown = result.err.replace("${PG_PASSWORD}", "")
        for fragment in ("reader", "p@ss", "ss:w", "w/rd", "rd#", "#1", "1%", "'w'", "'ss'"):
            assert fragment not in shown, fragment
