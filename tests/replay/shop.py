"""A tiny generated warehouse that is not the demo: one ``sessions`` table of a shop
(platform, city, converted), Korean holidays, weekly seasonality, customers who come and
go, a checkout bug in one platform x city and a city whose customers start to lapse."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import holidays
import numpy as np
import pandas as pd

PLATFORMS = np.array(["app", "web"])
CITIES = np.array(["Seoul", "Busan", "Daegu"])
WEEKDAY = np.array([1.0, 1.0, 1.0, 1.05, 1.1, 1.3, 1.2])
"""Visit multiplier Monday..Sunday."""
HOLIDAY = 0.2
"""Visit multiplier of a public holiday: the shop's regulars stay home, so for a week
the look-back of every day holds one day without them (fewer of a day's shoppers were
seen in the 7 days before it)."""

METRICS = """
version: 1
timezone: Asia/Seoul
country: KR
warehouse: duckdb:///shop.duckdb
store: sqlite:///state/cx-agent.db
sources:
  sessions: {table: sessions, time: started_at, entity: shopper}
metrics:
  checkout:
    title: Checkout conversion
    source: sessions
    kind: ratio
    numerator: "CASE WHEN converted THEN 1 ELSE 0 END"
    denominator: "1"
    good: up
    dimensions: [platform, city]
    watch_segments: true
    alert: {min_volume: 50}
    detect:
      anomaly: {sensitivity: medium}
      change_point: {min_shift: 0.01}
  comeback:
    title: Shoppers back within a week
    source: sessions
    kind: returning
    lookback: 7d
    good: up
    dimensions: [platform, city]
    detect:
      anomaly: {sensitivity: medium}
      change_point: {min_shift: 0.01}
  lapsed:
    title: Lapsed shoppers
    source: sessions
    kind: churn
    window: 7d
    good: down
    dimensions: [city]
    detect:
      anomaly: {sensitivity: medium}
      change_point: {min_shift: 0.01}
  weekly_comeback:
    title: Shoppers back within a week (weekly)
    source: sessions
    kind: returning
    lookback: 7d
    grain: week
    good: up
    dimensions: [city]
    detect:
      anomaly: {sensitivity: medium}
"""


def write_shop(path: Path, *, end: date, seed: int, days: int = 200) -> None:
    """Write the shop's warehouse: ``days`` days of sessions ending with ``end``."""
    rng = np.random.default_rng(seed)
    first = end - timedelta(days=days - 1)
    calendar = pd.date_range(first, end, freq="D")
    kr = holidays.KR(years=range(first.year, end.year + 1))
    off = np.array([d.date() in kr for d in calendar])
    mult = np.where(off, HOLIDAY, WEEKDAY[calendar.day_of_week])
    n = 20_000
    rate = rng.lognormal(np.log(0.1), 0.3, n)
    city = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    platform = rng.choice(2, n, p=[0.6, 0.4])
    join = rng.integers(-days, days - 30, n).clip(0)
    leave = join + rng.exponential(400, n)
    lapse_from = days - 25  # Daegu's shoppers start to lapse
    leave = np.where((city == 2) & (rng.random(n) < 0.4), np.minimum(leave, lapse_from), leave)
    per_day = rng.poisson(np.outer(rate, mult))
    per_day[np.arange(days)[None, :] < join[:, None]] = 0
    per_day[np.arange(days)[None, :] >= leave[:, None]] = 0
    who, day = np.nonzero(per_day)
    who, day = np.repeat(who, per_day[who, day]), np.repeat(day, per_day[who, day])
    bug = (platform[who] == 0) & (city[who] == 1) & (day >= days - 12)  # app x Busan checkout
    converted = rng.random(who.size) < np.where(bug, 0.02, 0.12)
    seconds = rng.integers(8 * 3600, 23 * 3600, who.size).astype("timedelta64[s]")
    sessions = pd.DataFrame(
        {
            "started_at": (calendar.to_numpy()[day] + seconds).astype("datetime64[us]"),
            "shopper": who + 1,
            "platform": PLATFORMS[platform[who]],
            "city": CITIES[city[who]],
            "converted": converted,
        }
    ).sort_values("started_at", kind="stable")
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.register("frame", sessions)
        con.execute("CREATE TABLE sessions AS SELECT * FROM frame")
