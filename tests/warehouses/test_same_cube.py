"""The same metrics.yaml gives the same cube on DuckDB, PostgreSQL and Spark.

Every metric of the demo metrics.yaml, plus the kinds it does not use (count, sum,
retention, sql), the month and hour grains and top-N folding, is computed on the demo warehouse
in DuckDB and in a copy of it on each engine; the cubes must match to float tolerance.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from agent.config import load_config
from agent.sources import DuckDBSource, open_source
from agent.sources.base import CubeQuery, TableRef
from tests.conftest import REPO
from tests.warehouses.conftest import END

START = END - timedelta(days=84)
WEEK_AGO = END - timedelta(days=6)
ACTIVITY = TableRef("activity", "customer_events", "event_time", "customer_id")
VISITS = replace(ACTIVITY, name="visits", filter="event_type = 'visit'")
DAILY_SQL = """
SELECT CAST(event_time AS DATE) AS period, channel, COUNT(*) AS num,
       SUM(CASE WHEN event_type = 'visit' THEN 1 ELSE 0 END) AS den
FROM customer_events GROUP BY CAST(event_time AS DATE), channel
"""


def _extra(metric: str, kind: str, source: TableRef, **fields: object) -> CubeQuery:
    base = {"grain": "day", "dimensions": ("channel", "device"), "start": START, "end": END}
    return CubeQuery(metric=metric, kind=kind, source=source, **(base | fields))  # type: ignore[arg-type]


def example_queries() -> dict[str, CubeQuery]:
    """Every demo metric as configured, and one query per kind the demo leaves out."""
    config = load_config(REPO / "metrics.yaml")
    queries = {name: config.cube_query(name, START, END) for name in config.metrics}
    return queries | {
        "visits_count": _extra("visits_count", "count", VISITS),
        "revenue_by_month_top3": _extra(
            "revenue_by_month_top3",
            "sum",
            ACTIVITY,
            expr="amount",
            grain="month",
            dimensions=("tier", "region"),
            top_n=3,
        ),
        "weekly_retention": _extra(
            "weekly_retention", "retention", ACTIVITY, window=timedelta(days=7), grain="week"
        ),
        "daily_sql": _extra("daily_sql", "sql", ACTIVITY, sql=DAILY_SQL, dimensions=("channel",)),
        "hourly_conversion": replace(
            queries["conversion"], metric="hourly_conversion", grain="hour", start=WEEK_AGO
        ),
        "hourly_premium_share": _extra(
            "hourly_premium_share",
            "mix",
            ACTIVITY,
            category="tier = 'premium'",
            grain="hour",
            start=WEEK_AGO,
        ),
    }


QUERIES = example_queries()
KINDS = {q.kind for q in QUERIES.values()}


def test_the_examples_cover_every_kind() -> None:
    every = {"count", "sum", "ratio", "returning", "retention", "churn", "mix", "sql"}
    assert every == KINDS


@pytest.fixture(scope="module")
def duckdb_cubes(demo_duckdb: Path) -> dict[str, pd.DataFrame]:
    with DuckDBSource(demo_duckdb) as source:
        return {name: source.fetch_cube(q) for name, q in QUERIES.items()}


def _comparable(cube: pd.DataFrame, q: CubeQuery) -> pd.DataFrame:
    cube = cube.astype({d: str for d in q.dimensions} | {"num": float, "den": float})
    cube["period"] = pd.to_datetime(cube["period"]).astype("datetime64[us]")
    return cube


def _assert_same(name: str, url: str, reference: pd.DataFrame, tmp_path: Path) -> None:
    q = QUERIES[name]
    with open_source(url, base_dir=tmp_path) as source:
        cube = source.fetch_cube(q)
    assert len(reference) > 0
    pd.testing.assert_frame_equal(
        _comparable(cube, q), _comparable(reference, q), check_exact=False, rtol=1e-9
    )


@pytest.mark.parametrize("name", list(QUERIES))
def test_postgres_gives_the_duckdb_cube(
    name: str, postgres_demo: str, duckdb_cubes: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    _assert_same(name, postgres_demo, duckdb_cubes[name], tmp_path)


def _one_per_kind() -> list[str]:
    """Spark is slow to plan; one example of each kind keeps its share of the suite short."""
    return list({q.kind: name for name, q in reversed(QUERIES.items())}.values())


@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.usefixtures("_collect_pyspark_sockets")
@pytest.mark.parametrize("warehouse", ["spark_demo", "spark_connect_demo"])  # local, sc://
@pytest.mark.parametrize("name", _one_per_kind())
def test_spark_gives_the_duckdb_cube(
    name: str,
    warehouse: str,
    duckdb_cubes: dict[str, pd.DataFrame],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    _assert_same(name, request.getfixturevalue(warehouse), duckdb_cubes[name], tmp_path)
