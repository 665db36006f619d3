"""The demo's payment attempts: an hourly checkout success rate with a planted outage.

Online checkouts (web and app) try a payment; most succeed. Attempts follow the hour of
day of each channel and the weekday of the visits (``demo.HOURS``, ``demo.WEEKLY``); their
success rate differs a little by segment. From the planted onset hour on, an app update
breaks card payments on iOS: that segment's success rate falls to ``OUTAGE_SUCCESS``
until a fix ``OUTAGE_HOURS`` later. Drawn from a generator of its own, so every other
table of the demo is what it was.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

__all__ = ["OUTAGE_HOURS", "OUTAGE_SUCCESS", "SEGMENTS", "payments"]

SEGMENTS: tuple[tuple[str, str], ...] = (("web", "desktop"), ("web", "android"), ("web", "ios"))
SEGMENTS += (("app", "android"), ("app", "ios"))
SHARE = np.array([0.22, 0.08, 0.06, 0.38, 0.26])
"""Share of the attempts per segment."""
SUCCESS = np.array([0.962, 0.948, 0.955, 0.951, 0.958])
DAILY_ATTEMPTS = 9_000
"""Attempts on an ordinary weekday."""
OUTAGE_SUCCESS = 0.60
OUTAGE_HOURS = 20
_OUTAGE = SEGMENTS.index(("app", "ios"))


def payments(
    seed: int,
    start: date,
    visit: np.ndarray,
    hours: np.ndarray,
    onset: datetime,
) -> pd.DataFrame:
    """One row per attempt from ``start`` on: ``payment_time`` (naive local), ``channel``,
    ``device``, ``status`` (success or failed). ``visit`` is the (web, app, store) visit
    multiplier per day, ``hours`` the hour-of-day weights of (web, app, ...)."""
    rng = np.random.default_rng([seed, 25])
    channel = np.array([0 if ch == "web" else 1 for ch, _ in SEGMENTS])
    by_hour = hours[channel] / hours[channel].sum(axis=1, keepdims=True)  # (segment, 24)
    level = DAILY_ATTEMPTS * SHARE[:, None, None] * visit[channel][:, :, None]
    counts = rng.poisson(level * by_hour[:, None, :])  # (segment, day, hour)
    seg, day, hour = np.nonzero(counts)
    n = counts[seg, day, hour]
    seg, day, hour = (np.repeat(a, n) for a in (seg, day, hour))
    sec = (day * 24 + hour) * 3600 + rng.integers(0, 3600, seg.size)
    stamps = np.datetime64(start, "s") + sec.astype("timedelta64[s]")
    success = SUCCESS[seg]
    since = (np.datetime64(onset, "s") - np.datetime64(start, "s")).astype(np.int64)
    broken = (seg == _OUTAGE) & (sec >= since) & (sec < since + OUTAGE_HOURS * 3600)
    success = np.where(broken, OUTAGE_SUCCESS, success)
    ok = rng.random(seg.size) < success
    order = np.argsort(sec, kind="stable")
    return pd.DataFrame(
        {
            "payment_id": np.arange(1, seg.size + 1),
            "payment_time": stamps[order].astype("datetime64[us]"),
            "channel": np.array([s[0] for s in SEGMENTS])[seg[order]],
            "device": np.array([s[1] for s in SEGMENTS])[seg[order]],
            "status": np.where(ok[order], "success", "failed"),
        }
    )
