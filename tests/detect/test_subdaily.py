"""Sub-daily bands: bursty series stay quiet, a few hours' drop in a busy hour is news."""

from __future__ import annotations

import numpy as np
import pandas as pd

from agent.cube import MetricSeries
from agent.detect.bands import seasonal_band

HOURS = 24 * 28


def series_of(
    num: np.ndarray, den: np.ndarray, *, additive: bool = False, freq: str = "h"
) -> MetricSeries:
    index = pd.date_range("2025-01-06", periods=len(num), freq=freq, tz="Asia/Seoul")
    value = num if additive else num / den
    frame = pd.DataFrame({"num": num, "den": den, "value": value, "judged": True}, index)
    return MetricSeries(frame, additive, "m")


def purchase_rate(drop_at: int | None = None, seed: int = 4) -> MetricSeries:
    """4 % of sessions buy, a little more in the evening; sessions swing 40x over a day.

    ``drop_at``: the rate halves for three hours from that hour on.
    """
    rng = np.random.default_rng(seed)
    hour = np.arange(HOURS) % 24
    den = rng.poisson(3000 * (1 + 0.95 * np.cos(2 * np.pi * (hour - 20) / 24))).astype(float)
    rate = 0.04 * (1 + 0.2 * np.cos(2 * np.pi * (hour - 21) / 24))
    if drop_at is not None:
        rate[drop_at : drop_at + 3] *= 0.5
    return series_of(rng.binomial(den.astype(int), rate).astype(float), den)


def outside(series: MetricSeries) -> np.ndarray:
    band = seasonal_band(series, "medium")
    return ((series.value > band["upper"]) | (series.value < band["lower"])).to_numpy()


def episodes(flags: np.ndarray) -> int:
    """Runs of out-of-band hours, runs less than three quiet hours apart counted once."""
    count, quiet = 0, 3
    for flagged in flags:
        count += bool(flagged and quiet >= 3)
        quiet = 0 if flagged else quiet + 1
    return count


def test_a_three_hour_rate_drop_in_the_evening_is_flagged_at_once() -> None:
    start = 24 * 24 + 19  # 7 pm, four days before the end
    flags = outside(purchase_rate(drop_at=start))
    assert flags[start]
    assert not flags[start - 24 : start].any()  # the day before was quiet
    # the drop is smaller than a night hour's swings (150 sessions), large for 5,000


def test_a_steady_purchase_rate_raises_at_most_one_alert_a_week() -> None:
    flags = outside(purchase_rate())
    assert episodes(flags[24 * 7 :]) <= 3


def test_bursty_counts_without_an_anomaly_raise_no_alert_storm() -> None:
    # mentions per 5 minutes: heavy-tailed bursts (Pareto), nothing anybody should page on
    rng = np.random.default_rng(7)
    rows = 288 * 21
    counts = 40 + 10 * rng.pareto(2.5, rows)
    flags = outside(series_of(counts, np.ones(rows), additive=True, freq="5min"))
    assert episodes(flags[288 * 7 :]) <= 2 * 14  # two weeks judged: a few a week at most
