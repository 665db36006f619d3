"""DuckDBSource as a user meets it: URLs, bounds, and the errors a broken metric gives."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from agent.errors import ConfigError, SourceError
from agent.sources import DuckDBSource, open_source
from agent.sources.base import CubeQuery, TableRef

VISITS = TableRef(
    name="visits", table="events", time="event_time", entity="customer_id",
    filter="event_type = 'visit'",
)  # fmt: skip


def make_warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE events AS SELECT * FROM (VALUES"
            " (1, TIMESTAMP '2024-01-02 10:00', 'visit', 'web'),"
            " (2, TIMESTAMP '2024-01-05 23:59', 'visit', 'app'),"
            " (3, TIMESTAMP '2024-01-09 08:00', 'purchase', 'app'))"
            " AS t(customer_id, event_time, event_type, channel)"
        )
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return make_warehouse(tmp_path / "wh.duckdb")


def count_query(source: TableRef = VISITS, dims: tuple[str, ...] = ("channel",)) -> CubeQuery:
    return CubeQuery(
        metric="daily_visits", kind="count", source=source, grain="day", dimensions=dims,
        start=date(2024, 1, 1), end=date(2024, 1, 10),
    )  # fmt: skip


@pytest.mark.parametrize("url", ["duckdb:///wh.duckdb", "wh.duckdb", "duckdb:////{abs}", "{abs}"])
def test_open_source_accepts_relative_and_absolute_urls(warehouse: Path, url: str) -> None:
    url = url.format(abs=str(warehouse).lstrip("/") if url.startswith("duckdb") else warehouse)
    with open_source(url, base_dir=warehouse.parent) as source:
        assert source.dialect == "duckdb"
        cube = source.fetch_cube(count_query())
    assert cube.to_dict("list") == {
        "period": [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-05")],
        "channel": ["web", "app"],
        "num": [1.0, 1.0],
        "den": [1.0, 1.0],
    }


def test_unknown_scheme_lists_the_supported_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        open_source("mysql://user:secret@db/cx", base_dir=tmp_path)
    message = str(err.value)
    assert "'mysql' is not supported" in message and "duckdb://" in message
    assert "secret" not in message


def test_data_bounds_respect_the_filter(warehouse: Path) -> None:
    with DuckDBSource(warehouse) as source:
        source.ping()
        assert source.data_bounds(VISITS) == (
            pd.Timestamp("2024-01-02 10:00"),
            pd.Timestamp("2024-01-05 23:59"),
        )
        empty = replace(VISITS, filter="event_type = 'refund'")
        assert source.data_bounds(empty) == (None, None)


def test_data_bounds_since_a_time_read_only_the_rows_after_it(warehouse: Path) -> None:
    with DuckDBSource(warehouse) as source:
        late = source.data_bounds(VISITS, since=datetime(2024, 1, 3))
        assert late == (pd.Timestamp("2024-01-05 23:59"), pd.Timestamp("2024-01-05 23:59"))
        assert source.data_bounds(VISITS, since=datetime(2024, 1, 6)) == (None, None)


def test_missing_file_is_an_error_not_a_new_database(tmp_path: Path) -> None:
    source = open_source("duckdb:///missing.duckdb", base_dir=tmp_path)
    with pytest.raises(SourceError) as err:
        source.fetch_cube(count_query())
    message = str(err.value)
    assert message.startswith("while computing metric 'daily_visits' in the warehouse: ")
    assert str(tmp_path / "missing.duckdb") in message and "cx-agent demo" in message
    assert err.value.unreachable
    assert not (tmp_path / "missing.duckdb").exists()


@pytest.mark.parametrize(
    ("source", "dims", "reason"),
    [
        (replace(VISITS, table="evnts"), ("channel",), "table evnts not found in wh.duckdb"
         " — did you mean events?"),
        (replace(VISITS, filter="event_typ = 'visit'"), ("channel",), "column event_typ not"
         " found in events — did you mean event_type?"),
        (VISITS, ("region",), "column region not found in events"),
    ],
    ids=["missing table", "filter names a missing column", "missing dim"],
)  # fmt: skip
def test_broken_metric_says_what_was_done_and_why_in_plain_words(
    warehouse: Path, source: TableRef, dims: tuple[str, ...], reason: str
) -> None:
    with DuckDBSource(warehouse) as wh, pytest.raises(SourceError) as err:
        wh.fetch_cube(count_query(source, dims))
    message = str(err.value)
    assert message.startswith(f"while computing metric 'daily_visits' in the warehouse: {reason}")
    assert "SELECT" not in message and "\n" not in message and not err.value.unreachable
    assert f"FROM {source.table} WHERE" in " ".join(err.value.debug_lines())
    assert err.value.__cause__ is not None


def test_a_filter_that_is_not_an_expression_never_reaches_the_warehouse(warehouse: Path) -> None:
    source = replace(VISITS, filter="event_type = ")
    with DuckDBSource(warehouse) as wh, pytest.raises(SourceError) as err:
        wh.fetch_cube(count_query(source, ("channel",)))
    assert str(err.value).startswith("while computing metric 'daily_visits' in the warehouse:")
    assert "is not one SQL expression over the source's columns" in str(err.value)


def _settings(source: DuckDBSource) -> tuple[str, int]:
    query = "SELECT current_setting('memory_limit'), current_setting('threads')"
    return source.connection().raw_sql(query).fetchone()


def test_url_query_sets_duckdb_memory_and_threads(warehouse: Path) -> None:
    url = "duckdb:///wh.duckdb?memory_limit=300MB&threads=1"
    with open_source(url, base_dir=warehouse.parent) as source:
        assert source.fetch_cube(count_query())["num"].sum() == 2.0
        assert _settings(source) == ("286.1 MiB", 1)  # 300 MB in DuckDB's binary units


def test_memory_is_bounded_by_default_and_other_connections_still_open(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as other:
        with open_source("duckdb:///wh.duckdb", base_dir=warehouse.parent) as source:
            assert _settings(source)[0] == "244.1 MiB"  # 256MB
        assert other.sql("SELECT count(*) FROM events").fetchone() == (3,)


def test_bad_duckdb_setting_is_a_config_or_source_error(warehouse: Path) -> None:
    with pytest.raises(ConfigError) as err:
        open_source("duckdb:///wh.duckdb?memory limit=1GB", base_dir=warehouse.parent)
    assert "'memory limit' is not a DuckDB setting name" in str(err.value)
    source = open_source("duckdb:///wh.duckdb?threads=many", base_dir=warehouse.parent)
    with pytest.raises(SourceError) as failed:
        source.fetch_cube(count_query())
    assert "many" in str(failed.value)


def test_spilled_blocks_go_to_a_directory_of_the_connection_not_next_to_the_warehouse(
    warehouse: Path, tmp_path: Path
) -> None:
    """Two runs at once on one file must not delete each other's spilled blocks."""
    query = "SELECT current_setting('temp_directory')"
    with open_source("duckdb:///wh.duckdb", base_dir=warehouse.parent) as source:
        spill = Path(source.connection().raw_sql(query).fetchone()[0])
        with open_source("duckdb:///wh.duckdb", base_dir=warehouse.parent) as again:
            other = Path(again.connection().raw_sql(query).fetchone()[0])
    assert spill.is_dir() and spill.parent.parent == Path(tempfile.gettempdir())
    assert other != spill and other.parent == spill.parent  # one folder per process
    assert spill != warehouse.parent / "wh.duckdb.tmp"
    url = f"duckdb:///wh.duckdb?temp_directory={tmp_path / 'spill'}"
    with open_source(url, base_dir=warehouse.parent) as chosen:
        assert chosen.connection().raw_sql(query).fetchone()[0] == str(tmp_path / "spill")


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        ("SELECT count(*) FROM read_csv('/etc/passwd')", "file system operations are disabled"),
        ("ATTACH '/tmp/other.duckdb' AS other", "file system operations are disabled"),
        ("SET enable_external_access = true", "the configuration has been locked"),
        ("SET memory_limit = '64GB'", "the configuration has been locked"),
        ("CREATE TABLE pwned AS SELECT 1", "read-only mode"),
    ],
    ids=["file reader", "attach", "access back on", "a setting", "write"],
)
def test_a_connection_reads_no_file_and_changes_no_setting(
    warehouse: Path, sql: str, refusal: str
) -> None:
    """Whatever SQL reached it, the warehouse connection could not read the agent's files."""
    with open_source("duckdb:///wh.duckdb", base_dir=warehouse.parent) as source:
        with pytest.raises(duckdb.Error, match=refusal):
            source.connection().raw_sql(sql)
        assert source.fetch_cube(count_query())["num"].sum() == 2.0  # and it still works


def test_the_lockdown_cannot_be_lifted_from_the_url(warehouse: Path) -> None:
    for name in ("enable_external_access", "lock_configuration"):
        with pytest.raises(ConfigError, match=f"'{name}' is cx-agent's to set"):
            open_source(f"duckdb:///wh.duckdb?{name}=true", base_dir=warehouse.parent)
