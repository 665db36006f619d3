"""Alerting as a user sees it on a small warehouse: segments, episodes, late data."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import duckdb
import pytest

from tests.conftest import cx_agent

CONFIG = """\
version: 1
timezone: Asia/Seoul
country: KR
warehouse: duckdb:///w.duckdb
sources:
  visits: {table: visits, time: visit_time}
metrics:
  conversion:
    title: Conversion
    source: visits
    kind: ratio
    numerator: "CASE WHEN bought THEN 1 ELSE 0 END"
    denominator: "1"
    dimensions: [channel]
    watch_segments: true
    detect:
      anomaly: {sensitivity: medium}
"""


def warehouse(home: Path, drop_from: str, drop_to: str) -> Path:
    """2,000 visits a day per channel converting at 10%, web at 4% between the dates."""
    (home / "metrics.yaml").write_text(CONFIG)
    with duckdb.connect(str(home / "w.duckdb")) as con:
        con.execute(
            textwrap.dedent(f"""\
            CREATE TABLE visits AS
            SELECT d::TIMESTAMP + INTERVAL 12 HOUR AS visit_time, ch AS channel,
                   (hash(d, ch, i) % 1000) < (CASE WHEN ch = 'web' AND d BETWEEN
                       DATE '{drop_from}' AND DATE '{drop_to}' THEN 40 ELSE 100 END) AS bought
            FROM generate_series(DATE '2026-07-01', DATE '2026-10-31', INTERVAL 1 DAY) t(d),
                 (VALUES ('app'), ('web'), ('store')) c(ch), range(2000) r(i)""")
        )
    return home


def findings(home: Path, day: str) -> list[tuple[dict[str, str], str, str]]:
    report = json.loads((home / "reports" / day / "conversion.json").read_text())
    return [(f["segment"], f["kind"], f["episode"]["status"]) for f in report["findings"]]


@pytest.fixture(scope="module")
def dropping(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return warehouse(tmp_path_factory.mktemp("dropping"), "2026-10-30", "2026-10-31")


def test_a_watched_segment_alerts_and_the_calm_ones_do_not(dropping: Path) -> None:
    result = cx_agent("run", "--once", "--as-of", "2026-10-30", cwd=dropping)
    assert result.code == 2, result.err
    found = findings(dropping, "2026-10-30")
    assert ({"channel": "web"}, "anomaly", "new") in found
    assert {seg.get("channel") for seg, _, _ in found} <= {None, "web"}


def test_the_next_day_the_same_episode_is_an_update_not_a_new_alert(dropping: Path) -> None:
    assert cx_agent("run", "--once", "--as-of", "2026-10-31", cwd=dropping).code == 2
    assert ({"channel": "web"}, "anomaly", "ongoing") in findings(dropping, "2026-10-31")


def test_a_day_without_data_is_late_data_not_a_drop(dropping: Path) -> None:
    result = cx_agent("run", "--once", "--as-of", "2026-11-01", cwd=dropping)
    assert result.code == 1, result.err
    report = json.loads((dropping / "reports" / "2026-11-01" / "conversion.json").read_text())
    [finding] = report["findings"]
    assert finding["kind"] == "late_data" and finding["episode"]["status"] == "new"
    assert finding["reason"] == "data for Nov 1 is missing"
    assert report["headline"] == "Conversion is not judged on Nov 1: data for Nov 1 is missing."


def test_an_episode_that_ends_is_closed_with_a_recovered_finding(tmp_path: Path) -> None:
    """Web's drop shows in the total too: one incident, one alert naming both, closed once."""
    home = warehouse(tmp_path, "2026-10-20", "2026-10-22")
    result = cx_agent("backfill", "--start", "2026-10-15", "--end", "2026-10-31", cwd=home)
    assert result.code == 0, result.err
    [row] = result.out.splitlines()[3:]
    assert row.split()[3] == "1"  # one alert
    assert row.endswith("2026-10-20 all customers + channel=web down (critical)")
    assert cx_agent("run", "--once", "--as-of", "2026-10-25", cwd=home).code == 0
    report = json.loads((home / "reports" / "2026-10-25" / "conversion.json").read_text())
    [closed] = report["findings"]
    assert (closed["kind"], closed["episode"]["status"]) == ("recovered", "recovered")
    assert closed["episode"]["segments"] == [{}, {"channel": "web"}]
