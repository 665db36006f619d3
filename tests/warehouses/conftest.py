"""Real warehouses for the equality tests: a PostgreSQL server and Spark in local mode.

Both are started once per test session and hold a copy of one small demo warehouse
(tables and views), made from the DuckDB file ``generate`` writes.
"""

from __future__ import annotations

import gc
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import ibis
import pytest

from agent.sources.demo import generate
from tests.conftest import REPO

END = date(2025, 6, 30)
CUSTOMERS = 2000


@pytest.fixture(scope="session")
def demo_duckdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("warehouses") / "warehouse.duckdb"
    generate(path, end=END, customers=CUSTOMERS)
    return path


def _tables_and_views(path: Path) -> tuple[list[str], list[str]]:
    """The demo's table names and its CREATE VIEW statements, as DuckDB keeps them."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()]
        views = con.sql("SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall()
    return tables, [r[0].rstrip(";") for r in views]


# --- PostgreSQL -------------------------------------------------------------------------


def _pg_bin() -> Path | None:
    """The directory of initdb and pg_ctl: on PATH, else Debian's versioned directory."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(debian[-1]).parent if debian else None


def _version(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(home: Path) -> list[str]:
    """initdb refuses root: run the server as ``postgres`` (or ``nobody``), owning ``home``."""
    if os.geteuid() != 0:
        return []
    user = "postgres" if _has_user("postgres") else "nobody"
    shutil.chown(home, user=user)
    home.chmod(0o700)
    return ["runuser", "-u", user, "--"]


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@dataclass
class PostgresServer:
    """The test session's PostgreSQL server: user ``cx`` logs in without a password
    from 127.0.0.1, every other role with its password (scram-sha-256)."""

    url: str
    run: Callable[..., None]
    pg_ctl: list[str]
    """``pg_ctl -D <data>``; ``stop`` and ``start`` add the rest."""
    start_options: list[str]

    def stop(self) -> None:
        self.run(*self.pg_ctl, "-m", "fast", "-w", "stop")

    def start(self) -> None:
        self.run(*self.pg_ctl, *self.start_options, "-w", "start")


_HBA = """\
local all all trust
host all cx 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
"""


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server on a free port of 127.0.0.1, for this test session only."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl): apt-get install postgresql")
    home = Path(tempfile.mkdtemp(prefix="cx-agent-pg-"))
    prefix, data, port = _as_server_user(home), home / "data", _free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    run(
        str(bin_dir / "initdb"),
        "-D",
        str(data),
        "-U",
        "cx",
        "--auth=trust",
        "--no-locale",
        "-E",
        "UTF8",
    )
    (data / "pg_hba.conf").write_text(_HBA)
    options = f"-h 127.0.0.1 -p {port} -k {home} -c fsync=off -c full_page_writes=off"
    server = PostgresServer(
        f"postgres://cx@127.0.0.1:{port}/postgres",
        run,
        [str(bin_dir / "pg_ctl"), "-D", str(data)],
        ["-o", options, "-l", str(home / "log")],
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.url


@pytest.fixture(scope="session")
def postgres_demo(postgres_url: str, demo_duckdb: Path) -> str:
    """The Postgres server holding the demo warehouse; its URL."""
    tables, views = _tables_and_views(demo_duckdb)
    source = ibis.duckdb.connect(str(demo_duckdb), read_only=True)
    pg = ibis.connect(postgres_url)
    try:
        for name in tables:
            pg.create_table(name, schema=source.table(name).schema())
            frame = source.table(name).to_pandas()
            with pg.con.cursor() as cur, cur.copy(f"COPY {name} FROM STDIN (FORMAT csv)") as copy:
                copy.write(frame.to_csv(index=False, header=False))
        for view in views:
            pg.raw_sql(view).close()
        pg.con.commit()
    finally:
        pg.disconnect()
        source.disconnect()
    return postgres_url


# --- Spark ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spark_demo(demo_duckdb: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One local Spark session for the test session, the demo as tables and views; its URL.

    SparkSource finds this active session and leaves it running when closed. The session
    also serves Spark Connect on a free local port (see ``spark_connect_demo``), and the
    demo lives in its catalog, which Spark Connect sessions share.
    """
    pyspark_sql = pytest.importorskip("pyspark.sql")
    parquet = tmp_path_factory.mktemp("spark")
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("cx-agent-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.warehouse.dir", str(parquet / "warehouse"))
        .config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
        .config("spark.connect.grpc.binding.address", "127.0.0.1")
        .config("spark.connect.grpc.binding.port", str(_free_port()))
        # tiny data: compiling and re-planning each query costs more than running it
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    tables, views = _tables_and_views(demo_duckdb)
    with duckdb.connect(str(demo_duckdb), read_only=True) as con:
        for name in tables:
            con.execute(f"COPY {name} TO '{parquet / name}.parquet' (FORMAT parquet)")
    for name in tables:
        session.sql(f"CREATE TABLE {name} USING parquet LOCATION '{parquet / name}.parquet'")
    for view in views:
        session.sql(view)
        session.catalog.cacheTable(view.split()[2])
    try:
        yield "spark://local"
    finally:
        session.stop()


@pytest.fixture(scope="session")
def spark_connect_demo(spark_demo: str) -> str:
    """The ``sc://`` URL of the Spark Connect server running in the test session's Spark."""
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    assert session is not None
    return f"sc://127.0.0.1:{session.conf.get('spark.connect.grpc.binding.port')}"


@pytest.fixture
def _collect_pyspark_sockets() -> Iterator[None]:
    """PySpark leaves the sockets it reads results from to the garbage collector: collect
    them here, quietly, rather than in whichever test runs next."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def metrics_for(warehouse: str, home: Path) -> None:
    """The demo metrics.yaml in ``home``, reading ``warehouse``."""
    lines = (REPO / "metrics.yaml").read_text(encoding="utf-8").splitlines()
    lines = [f"warehouse: {warehouse}" if ln.startswith("warehouse:") else ln for ln in lines]
    (home / "metrics.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def reports_on(
    warehouses: dict[str, str], home: Path, metric: str, run: Callable[[Path], int]
) -> dict[str, object]:
    """``metric``'s JSON report for END from each of ``warehouses`` (engine -> URL), the demo
    metrics.yaml in ``home/<engine>`` and run there by ``run(directory)``."""
    reports = {}
    for engine, url in warehouses.items():
        (home / engine).mkdir()
        metrics_for(url, home / engine)
        assert run(home / engine) in (0, 1, 2)  # nothing found, warning, critical
        path = home / engine / "reports" / END.isoformat() / f"{metric}.json"
        reports[engine] = json.loads(path.read_text(encoding="utf-8"))
    return reports
