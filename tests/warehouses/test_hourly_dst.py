"""Hourly periods across daylight-saving changes, bucketed in DuckDB and in PostgreSQL.

The warehouse holds naive local timestamps (README: `timezone` is the zone of the
warehouse's timestamps). Each test writes ``k + 1`` events in the k-th real hour of a day
(counted from local midnight, UTC-wise) and checks the hourly counts by hand:

* New York, Sun 2026-11-01 (25 real hours): 00:00 has 1 event; the two 01:00 hours
  (EDT, then EST) have 2 and 3, which naive timestamps cannot tell apart: one period of
  5, not judged; 02:00 EST has 4 ... 23:00 has 25. 24 periods, 325 events.
* New York, Sun 2026-03-08 (23 real hours): 00:00 has 1, 01:00 has 2, then 03:00 EDT
  has 3 ... 23:00 has 23. No 02:00 period. 23 periods, 276 events.
* Seoul, Sun 2026-11-01 (no change): 00:00 (15:00 UTC the day before) has 1 ... 23:00
  has 24. 24 periods at +09:00, 300 events.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb
import ibis
import pandas as pd
import pytest

from agent.config import load_config
from agent.pipeline.metric_run import MetricJob
from agent.sources import open_source

DAY_HOURS = {"2026-11-01": 25, "2026-03-08": 23}


def events(day: str, tz: str) -> pd.DataFrame:
    """``k + 1`` events in the k-th real hour of ``day`` and of the days around it (2 each
    there), written as the naive local times a warehouse would hold."""
    rows = []
    midnight = pd.Timestamp(day, tz=tz)
    for offset in (-1, 0, 1):
        start = midnight + pd.DateOffset(days=offset)
        hours = pd.date_range(start, start + pd.DateOffset(days=1), freq="h", inclusive="left")
        for k, hour in enumerate(hours):
            for i in range(k + 1 if offset == 0 else 2):
                local = (hour + pd.Timedelta(minutes=2 * i)).tz_convert(tz).tz_localize(None)
                rows.append((i, local, "web" if i % 2 else "app"))
    return pd.DataFrame(rows, columns=["customer_id", "event_time", "channel"])


CONFIG = """\
version: 1
timezone: {tz}
country: {country}
warehouse: {warehouse}
sources:
  events: {{table: {table}, time: event_time}}
metrics:
  hits:
    title: Hits
    source: events
    kind: count
    grain: hour
    dimensions: [channel]
    history: 1d
"""


def on_duckdb(frame: pd.DataFrame, table: str, home: Path) -> str:
    with duckdb.connect(str(home / "w.duckdb")) as con:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM frame")
    return "duckdb:///w.duckdb"


def on_postgres(url: str) -> Callable[[pd.DataFrame, str, Path], str]:
    def load(frame: pd.DataFrame, table: str, home: Path) -> str:
        con = ibis.connect(url)
        try:
            con.create_table(table, frame, overwrite=True)
        finally:
            con.disconnect()
        return url

    return load


@pytest.fixture(params=["duckdb", "postgres"])
def load(request: pytest.FixtureRequest) -> Callable[[pd.DataFrame, str, Path], str]:
    if request.param == "duckdb":
        return on_duckdb
    return on_postgres(request.getfixturevalue("postgres_url"))


def hourly(load: Callable[..., str], tmp_path: Path, day: str, tz: str, country: str) -> MetricJob:
    table = f"hits_{tz.split('/')[-1].lower()}_{day.replace('-', '')}"
    warehouse = load(events(day, tz), table, tmp_path)
    text = CONFIG.format(tz=tz, country=country, warehouse=warehouse, table=table)
    (tmp_path / "metrics.yaml").write_text(text)
    config = load_config(tmp_path / "metrics.yaml")
    source = open_source(config.warehouse, base_dir=tmp_path)
    the_day = date.fromisoformat(day)
    try:
        return MetricJob.fetch(config, "hits", source, the_day, the_day)
    finally:
        source.close()


def counts(job: MetricJob, day: str) -> dict[str, float]:
    frame = job.series.frame.loc[day]
    return {f"{p:%H:%M%z}": v for p, v in frame["value"].items()}


def test_the_25_hour_day_counts_every_hour_once(load: Callable[..., str], tmp_path: Path) -> None:
    job = hourly(load, tmp_path, "2026-11-01", "America/New_York", "US")
    got = counts(job, "2026-11-01")
    want = {"00:00-0400": 1, "01:00-0400": 2 + 3}
    want |= {f"{h:02d}:00-0500": h + 2 for h in range(2, 24)}
    assert got == want and sum(got.values()) == sum(range(1, 26))
    why = job.unjudged.loc["2026-11-01"] if job.unjudged is not None else None
    assert why is not None and why[why != ""].index.strftime("%H:%M%z").tolist() == ["01:00-0400"]
    # the day's runs judge (and report on) each of its 24 periods once
    periods = [r.run.period for r in job.replay(date(2026, 11, 1), date(2026, 11, 1))]
    assert len(periods) == 24 and len(set(periods)) == 24


def test_the_23_hour_day_invents_no_hour(load: Callable[..., str], tmp_path: Path) -> None:
    job = hourly(load, tmp_path, "2026-03-08", "America/New_York", "US")
    got = counts(job, "2026-03-08")
    want = {"00:00-0500": 1, "01:00-0500": 2}
    want |= {f"{h:02d}:00-0400": h for h in range(3, 24)}
    assert got == want and sum(got.values()) == sum(range(1, 24))
    assert "02:00" not in {k[:5] for k in got}


def test_seoul_hours_are_seoul_wall_clock_hours(load: Callable[..., str], tmp_path: Path) -> None:
    job = hourly(load, tmp_path, "2026-11-01", "Asia/Seoul", "KR")
    got = counts(job, "2026-11-01")
    assert got == {f"{h:02d}:00+0900": h + 1 for h in range(24)}
    first = job.series.frame.loc["2026-11-01"].index[0]
    assert first.tz_convert("UTC") == pd.Timestamp("2026-10-31 15:00", tz="UTC")
    assert first + timedelta(hours=24) == pd.Timestamp("2026-11-02", tz="Asia/Seoul")
