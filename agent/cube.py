"""The cube (DESIGN §3) and the series every detector reads.

A cube is a DataFrame with one row per (period, segment leaf): ``period`` (start of
the grain bucket, timezone-aware), one column per dimension, ``num`` and ``den``.
For rate metrics a slice's value is ``sum(num) / sum(den)``; for additive metrics
(``count``, ``sum``) it is ``sum(num)`` and ``den`` carries the row count (volume).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from agent.model import Segment

__all__ = ["OTHER", "MetricSeries", "series_of", "slice_cube"]

OTHER = "(other)"


@dataclass(frozen=True)
class MetricSeries:
    """Period-indexed ``num``, ``den``, ``value`` and ``judged`` of one slice.

    ``judged`` is False for periods nobody may alert on (immature retention windows,
    the partial current period, missing data). Detectors must not emit findings for
    them, but may use the judged history before them as baseline.
    """

    frame: pd.DataFrame
    additive: bool
    metric: str = ""
    segment: Segment | None = None

    @property
    def value(self) -> pd.Series:
        return self.frame["value"]

    @property
    def den(self) -> pd.Series:
        return self.frame["den"]

    @property
    def judged(self) -> pd.Series:
        return self.frame["judged"]

    def upto(self, period: pd.Timestamp) -> MetricSeries:
        """The series as it was known at ``period`` (inclusive)."""
        return MetricSeries(self.frame.loc[:period], self.additive, self.metric, self.segment)


def slice_cube(cube: pd.DataFrame, segment: Segment) -> pd.DataFrame:
    """Rows of the cube inside ``segment`` (all rows for ``{}``)."""
    mask = pd.Series(True, index=cube.index)
    for dim, val in segment.items():
        mask &= cube[dim].astype(str) == val
    return cube[mask]


def series_of(
    cube: pd.DataFrame,
    *,
    additive: bool,
    segment: Segment | None = None,
    judged: pd.Series | None = None,
    metric: str = "",
) -> MetricSeries:
    """Sum a cube (or one slice of it) over dimensions into a MetricSeries.

    ``judged`` is a boolean Series indexed by period; periods absent from it (or when
    it is None) are judged.
    """
    seg = segment or {}
    rows = slice_cube(cube, seg)
    agg = rows.groupby("period", sort=True)[["num", "den"]].sum()
    value = agg["num"] if additive else agg["num"] / agg["den"].where(agg["den"] != 0)
    frame = agg.assign(value=value.astype(float))
    if judged is None:
        frame["judged"] = True
    else:
        frame["judged"] = judged.reindex(frame.index).fillna(True).astype(bool)
    frame.loc[frame["value"].isna(), "judged"] = False
    return MetricSeries(frame, additive, metric, seg)
