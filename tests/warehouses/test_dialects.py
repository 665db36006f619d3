"""Every example metric compiles to the warehouses that cannot run here, without a driver.

The cube expression is built on the demo DuckDB (which only reads the user SQL's
schema), compiled by Ibis to each dialect, and the result must parse in that dialect:
an Ibis operation a dialect lacks, or SQL it cannot read, fails here first.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import ibis
import pytest
import sqlglot

from agent.errors import ConfigError
from agent.sources import DuckDBSource, open_source
from agent.sources.sql import build_cube_expr
from agent.sources.warehouses import databricks_arguments
from tests.warehouses.test_same_cube import QUERIES

DIALECTS = ("bigquery", "snowflake", "trino", "databricks")


@pytest.fixture(scope="module")
def duckdb_source(demo_duckdb: Path) -> Iterator[DuckDBSource]:
    source = DuckDBSource(demo_duckdb)
    yield source
    source.close()


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", list(QUERIES))
def test_every_example_metric_compiles_and_parses(
    duckdb_source: DuckDBSource, name: str, dialect: str
) -> None:
    query = QUERIES[name]
    expr = build_cube_expr(duckdb_source.connection(), query)
    sql = ibis.to_sql(expr, dialect=dialect)
    tree = sqlglot.parse_one(sql, read=dialect)
    assert tree.find(sqlglot.exp.Group) is not None  # one aggregate query, rows stay home
    assert f"FROM {query.source.table}" in sql


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        ("snowflake://cx:secret@acme/analytics/public?warehouse=WH", "snowflake"),
        ("bigquery://acme-project/analytics", "bigquery"),
        ("trino://cx@trino.internal:8080/hive/analytics", "trino"),
        ("databricks://token:secret@acme.cloud.databricks.com?http_path=/sql/1", "databricks"),
    ],
)
def test_a_missing_driver_names_the_extra_to_install(url: str, extra: str, tmp_path: Path) -> None:
    driver = {"snowflake": "snowflake", "bigquery": "google.cloud.bigquery"}.get(extra, extra)
    try:
        installed = importlib.util.find_spec(driver) is not None
    except ModuleNotFoundError:
        installed = False
    if installed:
        pytest.skip(f"the {extra} driver is installed here")
    with pytest.raises(ConfigError) as err:
        open_source(url, base_dir=tmp_path)
    message = str(err.value)
    assert f"pip install 'cx-agent[{extra}]'" in message
    assert "secret" not in message


def test_a_databricks_url_gives_the_workspace_token_and_sql_warehouse() -> None:
    url = (
        "databricks://token:dapi%2Fsecret@adb-42.azuredatabricks.net"
        "?http_path=/sql/1.0/warehouses/abc&catalog=main&schema=cx"
    )
    assert databricks_arguments(url) == {
        "server_hostname": "adb-42.azuredatabricks.net",
        "access_token": "dapi/secret",
        "http_path": "/sql/1.0/warehouses/abc",
        "catalog": "main",
        "schema": "cx",
    }


def test_a_databricks_url_without_its_sql_warehouse_says_how_to_write_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DATABRICKS_HTTP_PATH", raising=False)
    with pytest.raises(ConfigError) as err:
        databricks_arguments("databricks://token:secret@adb-42.azuredatabricks.net")
    message = str(err.value)
    assert "no http_path" in message and "$DATABRICKS_HTTP_PATH" in message
    assert "?http_path=/sql/1.0/warehouses/<id>" in message
    assert "secret" not in message
    monkeypatch.setenv("DATABRICKS_HTTP_PATH", "/sql/1.0/warehouses/abc")
    arguments = databricks_arguments("databricks://token:secret@adb-42.azuredatabricks.net")
    assert "http_path" not in arguments  # the connector reads the variable itself


def test_a_databricks_url_setting_it_does_not_read_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        databricks_arguments(
            "databricks://token:secret@adb-42.azuredatabricks.net?http_path=/sql/1&use_cloud_fetch=false"
        )
    message = str(err.value)
    assert "'use_cloud_fetch' is not one of http_path, catalog, schema" in message
    assert "secret" not in message
