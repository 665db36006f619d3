"""The Numenta Anomaly Benchmark score, from the definition in ``../shared/bench/README.md``.

Per file: the first min(15 % of rows, 750) rows are a probation period whose detections
do not count. Inside an anomaly window only the earliest detection counts, worth
sigma(y) / sigma(-1) * A_TP with sigma(y) = 2 / (1 + e^(5y)) - 1 and y the detection's
position relative to the window's right edge in window widths (-1 at the left edge).
A window without a detection costs A_FN. A detection outside every window costs
A_FP * sigma(y), y measured from the previous window's right edge in that window's
widths, or A_FP in full when no window precedes it. A corpus (or a category) is
normalised as 100 * (raw - null) / (perfect - null): ``null`` never fires (every
window missed), ``perfect`` scores every window at A_TP.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["STANDARD", "FileScore", "Profile", "normalised", "probation", "score_file", "sigma"]


@dataclass(frozen=True)
class Profile:
    """Cost weights of a NAB profile."""

    tp: float
    fp: float
    fn: float


STANDARD = Profile(tp=1.0, fp=0.11, fn=1.0)


@dataclass(frozen=True)
class FileScore:
    raw: float
    null: float
    perfect: float
    hits: int
    misses: int
    false_alarms: int

    def __add__(self, other: FileScore) -> FileScore:
        return FileScore(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


def sigma(y: float) -> float:
    """NAB's scaled sigmoid: 1 far before a window's right edge, 0 at it, -1 far after."""
    return -1.0 if y > 3.0 else 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probation(rows: int) -> int:
    return min(math.floor(0.15 * rows), 750)


def _window_rows(
    stamps: pd.DatetimeIndex, windows: Iterable[tuple[str, str]]
) -> list[tuple[int, int]]:
    """(first, last) row of each window, in time order."""
    spans = []
    for start, end in windows:
        first = int(stamps.searchsorted(pd.Timestamp(start), side="left"))
        last = int(stamps.searchsorted(pd.Timestamp(end), side="right")) - 1
        spans.append((first, last))
    return sorted(spans)


def _false_alarm(row: int, before: list[tuple[int, int]], profile: Profile) -> float:
    if not before:
        return -profile.fp
    first, last = before[-1]
    return profile.fp * sigma((row - last) / max(last - first, 1))


def score_file(
    stamps: Sequence[pd.Timestamp] | pd.DatetimeIndex,
    detections: Sequence[bool] | np.ndarray,
    windows: Iterable[tuple[str, str]],
    profile: Profile = STANDARD,
) -> FileScore:
    """Score one file's 0/1 detections (one per row of ``stamps``) against its windows."""
    index = pd.DatetimeIndex(stamps)
    spans = _window_rows(index, windows)
    credit: dict[int, float] = {}
    penalty, false_alarms = 0.0, 0
    for row in np.flatnonzero(np.asarray(detections, dtype=bool)):
        if row < probation(len(index)):
            continue
        inside = [k for k, (a, b) in enumerate(spans) if a <= row <= b]
        if inside:
            first, last = spans[inside[0]]
            y = -(last - row + 1) / (last - first + 1)
            credit.setdefault(inside[0], profile.tp * sigma(y) / sigma(-1.0))
        else:
            penalty += _false_alarm(row, [s for s in spans if s[1] < row], profile)
            false_alarms += 1
    misses = len(spans) - len(credit)
    return FileScore(
        raw=sum(credit.values()) + penalty - profile.fn * misses,
        null=-profile.fn * len(spans),
        perfect=profile.tp * len(spans),
        hits=len(credit),
        misses=misses,
        false_alarms=false_alarms,
    )


def normalised(score: FileScore) -> float:
    """100 * (raw - null) / (perfect - null); NaN when there is no window to find."""
    span = score.perfect - score.null
    return 100.0 * (score.raw - score.null) / span if span else float("nan")
