"""Hourly business KPIs with labelled anomalies: an in-app purchase rate per hour.

One seed gives one series of ``DAYS`` days. Sessions per hour are Poisson around a
volume with an hour-of-day profile (quiet nights, an evening peak), busier weekends,
growth and public holidays; purchases are binomial among them at a rate with its own
hour-of-day and weekday profile, a slow trend, a holiday effect and hour-to-hour
over-dispersion (a lognormal factor: real rates wander more than sampling alone).
Volumes and rates differ by seed (peak 1,000-20,000 sessions an hour, rate 1.5-8 %).

Anomalies are planted after the NAB probation period, at least two days apart:

* ``drop`` — the rate falls 35-80 % for 2-8 hours (a broken checkout, a store outage);
* ``spike`` — the rate rises 60-150 % for 1-4 hours (a mispriced item, a promotion bug);
* ``shift`` — the rate falls 20-40 % for 12-24 hours (a bad release, then a fix).

Each anomaly's labelled window starts at its first hour and ends ``TAIL`` hours after its
last, as NAB windows leave room for a late detection. Holidays are not labelled: they are
the calendar, not an incident.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DAYS", "JUDGE_SEEDS", "KINDS", "TUNE_SEEDS", "HourlyKpi", "hourly_kpi"]

DAYS = 56
TAIL = 4
"""Hours a labelled window runs past the anomaly's last hour."""
TUNE_SEEDS = range(10)
JUDGE_SEEDS = range(1000, 1010)
START = pd.Timestamp("2026-01-05")  # a Monday
KINDS = {  # rate factor range, duration range in hours
    "drop": ((0.2, 0.65), (2, 8)),
    "spike": ((1.6, 2.5), (1, 4)),
    "shift": ((0.6, 0.8), (12, 24)),
}


@dataclass(frozen=True)
class HourlyKpi:
    """One generated series: ``frame`` has ``num`` (purchases), ``den`` (sessions) and
    ``value`` (their ratio) per hour; ``windows`` are the labelled [start, end] stamps."""

    frame: pd.DataFrame
    windows: list[tuple[str, str]]
    kinds: list[str]


def _daily_wave(hours: np.ndarray, peak: float, depth: float) -> np.ndarray:
    """1 - depth at the trough, 1 + depth at ``peak`` o'clock."""
    return 1.0 + depth * np.cos(2 * np.pi * (hours - peak) / 24)


def _holidays(rng: np.random.Generator, days: int) -> np.ndarray:
    """Indices of one or two holidays (after the first week)."""
    return rng.choice(np.arange(8, days - 1), size=int(rng.integers(1, 3)), replace=False)


def _anomalies(rng: np.random.Generator, hours: int) -> list[tuple[str, int, int, float]]:
    """(kind, first hour, duration, rate factor) of 3-5 anomalies, two days apart or more."""
    first = int(0.15 * hours) + 48
    starts: list[int] = []
    while len(starts) < int(rng.integers(3, 6)):
        start = int(rng.integers(first, hours - 48))
        if all(abs(start - s) >= 72 for s in starts):
            starts.append(start)
    out = []
    for start in sorted(starts):
        kind = str(rng.choice(list(KINDS)))
        (low, high), (short, long) = KINDS[kind]
        out.append((kind, start, int(rng.integers(short, long + 1)), float(rng.uniform(low, high))))
    return out


def hourly_kpi(seed: int, days: int = DAYS) -> HourlyKpi:
    """The purchase-rate series of ``seed`` (see the module doc)."""
    rng = np.random.default_rng(seed)
    stamps = pd.date_range(START, periods=24 * days, freq="h")
    hour, day = stamps.hour.to_numpy(), np.arange(len(stamps)) // 24
    weekend = stamps.dayofweek.to_numpy() >= 5
    holiday = np.isin(day, _holidays(rng, days))
    growth = 1 + rng.uniform(-0.15, 0.3) * day / days
    sessions = (
        np.exp(rng.uniform(np.log(1000), np.log(20_000)))
        * _daily_wave(hour, rng.uniform(19, 22), rng.uniform(0.6, 0.85))
        * np.where(weekend, rng.uniform(1.05, 1.35), 1.0)
        * np.where(holiday, rng.uniform(1.1, 1.5), 1.0)
        * growth
    )
    rate = (
        np.exp(rng.uniform(np.log(0.015), np.log(0.08)))
        * _daily_wave(hour, rng.uniform(18, 23), rng.uniform(0.1, 0.3))
        * np.where(weekend, rng.uniform(0.9, 1.15), 1.0)
        * np.where(holiday, rng.uniform(0.8, 0.95), 1.0)
        * (1 + rng.uniform(-0.15, 0.15) * day / days)
        * rng.lognormal(0.0, rng.uniform(0.02, 0.08), len(stamps))
    )
    windows, kinds = [], []
    for kind, start, length, factor in _anomalies(rng, len(stamps)):
        rate[start : start + length] *= factor
        end = min(start + length - 1 + TAIL, len(stamps) - 1)
        windows.append((str(stamps[start]), str(stamps[end])))
        kinds.append(kind)
    den = rng.poisson(sessions).astype(float)
    num = rng.binomial(den.astype(int), np.clip(rate, 0.0, 1.0)).astype(float)
    value = np.divide(num, den, out=np.full(len(den), np.nan), where=den > 0)
    frame = pd.DataFrame({"num": num, "den": den, "value": value}, index=stamps)
    return HourlyKpi(frame=frame, windows=windows, kinds=kinds)
