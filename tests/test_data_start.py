"""Periods the data does not cover are not measured: no 0% first week on a chart."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from agent.config import load_config
from agent.job import MetricJob
from agent.sources.duckdb import DuckDBSource

LAST = date(2026, 3, 1)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """Three customers visiting every day from Wednesday 2026-01-07 to Sunday 2026-03-01."""
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute(
        "CREATE TABLE events AS SELECT c AS customer_id, d + INTERVAL 10 HOUR AS event_time,"
        " 'web' AS channel FROM range(3) r(c),"
        " range(TIMESTAMP '2026-01-07', TIMESTAMP '2026-03-02', INTERVAL 1 DAY) t(d)"
    )
    con.close()
    (tmp_path / "metrics.yaml").write_text(
        "version: 1\ntimezone: UTC\nwarehouse: duckdb:///wh.duckdb\n"
        "sources:\n  visits: {table: events, time: event_time, entity: customer_id}\n"
        "metrics:\n"
        "  revisit_rate: {title: Revisit rate, source: visits, kind: returning, lookback: 7d,"
        " grain: week, dimensions: [channel]}\n"
        "  visits: {title: Visits, source: visits, kind: count, grain: week,"
        " dimensions: [channel]}\n",
        encoding="utf-8",
    )
    return tmp_path / "metrics.yaml"


def _values(config_path: Path, metric: str) -> pd.Series:
    source = DuckDBSource(config_path.parent / "wh.duckdb")
    return MetricJob.fetch(load_config(config_path), metric, source, LAST, LAST).series.value


def test_a_revisit_rate_starts_once_its_lookback_has_data(config_path: Path) -> None:
    values = _values(config_path, "revisit_rate")
    # week of Jan 5 starts before the data, week of Jan 12 looks back into it: neither shown
    assert values.index[0].date() == date(2026, 1, 19)
    assert (values == 1.0).all()


def test_a_count_skips_the_partial_first_week(config_path: Path) -> None:
    values = _values(config_path, "visits")
    assert values.index[0].date() == date(2026, 1, 12)
    assert (values == 21.0).all()  # 3 customers x 7 days, every full week
