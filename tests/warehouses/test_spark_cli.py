"""``cx-agent validate --connect`` and ``run --once`` on Spark, as on DuckDB.

The CLI runs in this process: the demo lives in the catalog of the test session's local
Spark, which another process could not see (a real cluster's tables could be); the
same Spark serves ``sc://`` Spark Connect on a local port.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.cli import app
from tests.warehouses.conftest import END, metrics_for, reports_on

pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.usefixtures("_collect_pyspark_sockets"),
]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def _cx_agent(*args: str) -> int:
    code = app(list(args), standalone_mode=False)
    return code if isinstance(code, int) else 0


@pytest.mark.parametrize(
    ("warehouse", "scheme"), [("spark_demo", "spark"), ("spark_connect_demo", "sc")]
)
def test_validate_connect_finds_every_table_and_column_on_spark(
    warehouse: str,
    scheme: str,
    home: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    metrics_for(request.getfixturevalue(warehouse), home)
    assert _cx_agent("validate", "--connect") == 0
    expected = f"warehouse ({scheme}): reachable; every table and column found"
    assert expected in capsys.readouterr().out


def test_run_once_on_spark_reports_what_duckdb_reports(
    spark_demo: str, demo_duckdb: Path, home: Path
) -> None:
    def run(home: Path) -> int:
        args = ("run", "--once", "--as-of", END.isoformat(), "-m", "nps")
        return _cx_agent(*args, "-c", str(home / "metrics.yaml"))

    reports = reports_on({"spark": spark_demo, "duckdb": str(demo_duckdb)}, home, "nps", run)
    assert reports["spark"] == reports["duckdb"]
