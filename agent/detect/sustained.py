"""Accumulated evidence of a series, or of many series sharing its periods, at a period.

:mod:`agent.detect.evidence` scans rows of judged periods; this module makes those rows
from a metric's periods the way every detector sees them, for any period of a replay:

* only judged periods are rows (holidays, immature and partial periods are not);
* the days next to a public holiday are left out of the rows, as they are out of the
  seasonal baseline (:func:`agent.detect.bands.holiday_neighbours`), but only once the
  holiday is known: the day before one is read as an ordinary day when it is the
  period judged, and the day after one is not judged;
* onsets are looked for among the last ``window.scan`` periods of the calendar, not of
  the rows, and references among the ``window.reference`` before them, so neither
  reaches back across weeks of unjudged periods;
* sub-daily series have no accumulated evidence here (their bands are their own).

It also says what the evidence is worth: a move is a WARNING once its p-value is
below the one-sided tail of the anomaly band (``Z[sensitivity]`` sigmas: 0.13 % at
medium, as rarely as one calm period leaves the band on that side) and CRITICAL below
the tail at twice that distance; one period alone is news only beyond ``spike_z``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from agent.cube import MetricSeries
from agent.detect.bands import Z, holiday_neighbours, share_so_far, wall_clock
from agent.detect.evidence import WINDOWS, Scan, scan
from agent.model import Direction, Note, Severity

__all__ = [
    "SPIKE",
    "WARNING_Z",
    "Rows",
    "reason",
    "critical_p",
    "grain_of",
    "noise_kind",
    "severity_of_p",
    "spike_z",
    "warning_p",
]

SPIKE = 2.0
"""One period alone is news (CRITICAL) beyond this many times the anomaly band's sigmas."""


def spike_z(sensitivity: str) -> float:
    """How many noise sigmas one period must be off to be news on its own."""
    return SPIKE * Z[sensitivity]


WARNING_Z = dict(Z)
"""A move is a WARNING once it is as unlikely as a normal deviate beyond this, per
sensitivity (the anomaly band's half-width in sigmas)."""


def warning_p(sensitivity: str) -> float:
    """Largest p-value of a WARNING (one-sided)."""
    return _tail(WARNING_Z[sensitivity])


def critical_p(sensitivity: str) -> float:
    return _tail(2 * Z[sensitivity])


def severity_of_p(p: float, sensitivity: str) -> Severity:
    if p <= critical_p(sensitivity):
        return Severity.CRITICAL
    return Severity.WARNING if p <= warning_p(sensitivity) else Severity.INFO


def _tail(z: float) -> float:
    # imported on use: see agent/__init__.py
    from scipy.special import ndtr

    return float(ndtr(-z))


def reason(
    direction: Direction, found: Scan, column: int, since: pd.Timestamp, sigma: float
) -> Note:
    """The why of a move that lasts: its mean since ``since`` against the one before."""
    return Note(
        f"reason_sustained_{direction}",
        {
            "after": float(found.after[column]),
            "before": float(found.before[column]),
            "since": since,
            "periods": int(found.periods[column]),
            "sigma": sigma,
        },
    )


def grain_of(index: pd.Index) -> str | None:
    """``day``, ``week`` or ``month`` from the median spacing of periods; None below a
    day (or with fewer than two periods)."""
    if len(index) < 2:
        return None
    gap = pd.Series(wall_clock(index)).diff().median()
    if pd.Timedelta(hours=20) <= gap <= pd.Timedelta(hours=28):
        return "day"
    if pd.Timedelta(days=5) <= gap <= pd.Timedelta(days=9):
        return "week"
    if pd.Timedelta(days=25) <= gap <= pd.Timedelta(days=35):
        return "month"
    return None


def noise_kind(series: MetricSeries) -> np.ndarray:
    """Per period, the sampling model of the series cut there: ``additive`` for counts,
    ``share`` while every judged value so far is in [0, 1], else ``ratio``."""
    if series.additive:
        return np.full(len(series.frame), "additive")
    return np.where(share_so_far(series), "share", "ratio")


@dataclass(frozen=True)
class Rows:
    """The judged periods of a metric as the rows of an evidence scan."""

    index: pd.Index
    """Every period."""
    positions: np.ndarray
    """Position in ``index`` of each row (judged period)."""
    after_holiday: np.ndarray
    before_holiday: np.ndarray
    weekday: np.ndarray | None
    grain: str

    @classmethod
    def of(cls, judged: pd.Series) -> Rows | None:
        """Rows of the periods ``judged`` marks; None for sub-daily or too-short series."""
        grain = grain_of(judged.index)
        if grain is None:
            return None
        flags = judged.to_numpy(dtype=bool)
        near = holiday_neighbours(judged).to_numpy(dtype=bool)
        after = near & np.concatenate([[False], ~flags[:-1]])
        positions = np.flatnonzero(flags)
        day = wall_clock(judged.index).day_of_week.to_numpy()
        return cls(
            index=judged.index,
            positions=positions,
            after_holiday=after[positions],
            before_holiday=(near & ~after)[positions],
            weekday=day[positions] if grain == "day" else None,
            grain=grain,
        )

    def row(self, period: pd.Timestamp) -> int | None:
        """The row of ``period``, None when it is not judged (or the day after a holiday)."""
        at = self.index.get_indexer(pd.Index([period]))[0]
        if at < 0:
            return None
        found = int(np.searchsorted(self.positions, at))
        if found >= len(self.positions) or self.positions[found] != at:
            return None
        return None if self.after_holiday[found] else found

    def scan(
        self, values: np.ndarray, den: np.ndarray, period: pd.Timestamp, noise: str, needed: float
    ) -> tuple[Scan, Scan] | None:
        """(down, up) evidence of each column of ``values`` / ``den`` (periods x columns,
        in ``index`` order) at ``period`` for a caller alerting at p-value ``needed``;
        None when the period is not judged."""
        at = self.row(period)
        if at is None:
            return None
        y = np.array(values[self.positions[: at + 1]], dtype=float)
        near = self.after_holiday[: at + 1] | self.before_holiday[: at + 1]
        near[at] = False  # the day before a holiday is not known as such on that day
        y[near] = np.nan
        d = np.asarray(den[self.positions[: at + 1]], dtype=float)
        return scan(
            y,
            d,
            at=at,
            weekday=self.weekday,
            noise=noise,
            window=WINDOWS[self.grain],
            needed=needed,
            calendar=self.positions[: at + 1],
        )
