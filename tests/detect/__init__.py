"""Series builders shared by the detector tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from agent.cube import MetricSeries

START = "2025-01-06"  # a Monday
WEEKLY = np.array([0.0, 1.5, 1.0, 0.5, 0.2, -2.0, -1.2])
"""A weekday profile (Monday first) in noise standard deviations."""


def days(n: int) -> pd.DatetimeIndex:
    return pd.date_range(START, periods=n, freq="D", tz="Asia/Seoul")


def additive(values: Sequence[float], judged: Sequence[bool] | None = None) -> MetricSeries:
    """A count-like series with the given daily values."""
    return rate(values, [1.0] * len(values), judged, additive=True)


def rate(
    values: Sequence[float],
    den: Sequence[float],
    judged: Sequence[bool] | None = None,
    *,
    additive: bool = False,
) -> MetricSeries:
    """A daily series of ``values``; for a rate num = value x den."""
    value = np.asarray(values, dtype=float)
    weight = np.asarray(den, dtype=float)
    frame = pd.DataFrame(
        {
            "num": value if additive else value * weight,
            "den": weight,
            "value": value,
            "judged": np.ones(len(value), bool) if judged is None else np.asarray(judged),
        },
        index=days(len(value)),
    )
    return MetricSeries(frame, additive, "m", {"channel": "app"})


def seasonal_noise(n: int, *, level: float, sigma: float, seed: int) -> np.ndarray:
    """``level`` + weekly profile + gaussian noise, both scaled by ``sigma``."""
    noise = np.random.default_rng(seed).normal(0.0, 1.0, n)
    return level + sigma * (WEEKLY[days(n).day_of_week] + noise)
