"""A checkout bug in one platform x city, as a user with `watch_segments: true` meets it."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import product
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from tests.conftest import cx_agent

CONFIG = """\
version: 1
timezone: Asia/Seoul
country: KR
warehouse: duckdb:///w.duckdb
sources:
  sessions: {table: daily_sessions, time: day}
metrics:
  conversion:
    title: Conversion
    source: sessions
    kind: ratio
    numerator: orders
    denominator: sessions
    unit: percent
    dimensions: [platform, city, grade]
    watch_segments: true
    detect:
      anomaly: {sensitivity: medium}
      change_point: {}
"""
PLATFORMS = {"ios": 0.35, "android": 0.45, "web": 0.2}
CITIES = {"Seoul": 0.45, "Busan": 0.12, "Incheon": 0.15, "Daegu": 0.13, "Gwangju": 0.15}
GRADES = {"new": 0.3, "regular": 0.5, "vip": 0.2}
START, ONSET = date(2026, 3, 2), date(2026, 9, 16)
END = ONSET + timedelta(days=8)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40,000 sessions a day converting at 3 % (with a weekly pattern); from ONSET on,
    ios & Busan (4.2 % of sessions) converts 80 % less for 9 days."""
    home = tmp_path_factory.mktemp("checkout")
    (home / "metrics.yaml").write_text(CONFIG)
    rng = np.random.default_rng(19)
    days = pd.date_range(START, END, freq="D")
    rows = []
    for (p, pw), (c, cw), (g, gw) in product(PLATFORMS.items(), CITIES.items(), GRADES.items()):
        sessions = np.round(40_000 * pw * cw * gw * (1 + 0.1 * (days.day_of_week >= 5)))
        rate = np.full(len(days), 0.03) * (1 - 0.1 * (days.day_of_week >= 5))
        if (p, c) == ("ios", "Busan"):
            rate[(days.date >= ONSET) & (days.date <= END)] *= 0.2
        orders = rng.binomial(sessions.astype(int), rate)
        rows.append(pd.DataFrame({"day": days, "platform": p, "city": c, "grade": g,
                                  "sessions": sessions, "orders": orders}))  # fmt: skip
    table = pd.concat(rows, ignore_index=True)
    with duckdb.connect(str(home / "w.duckdb")) as con:
        con.register("frame", table)
        con.execute("CREATE TABLE daily_sessions AS SELECT * FROM frame")
    return home


def alerts(home: Path, start: date, end: date) -> str:
    result = cx_agent("backfill", "--start", str(start), "--end", str(end), cwd=home)
    assert result.code == 0, result.err
    [line] = [x for x in result.out.splitlines() if x.startswith("conversion ")]
    return line.split("  ")[-1].strip()


def test_the_checkout_bug_alerts_within_two_days_and_names_its_segment(home: Path) -> None:
    first = alerts(home, ONSET, END).split(", ")[0]
    day, segment = first.split(" ", 1)
    assert date.fromisoformat(day) - ONSET <= timedelta(days=2)
    named, direction = segment.rsplit(" down", 1)
    assert "platform=ios & city=Busan" in named.split(" + ") and direction.startswith(" (")


def test_the_month_before_it_raises_nothing(home: Path) -> None:
    assert alerts(home, ONSET - timedelta(days=45), ONSET - timedelta(days=1)) == "-"
