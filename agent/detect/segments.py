"""Watching the segment lattice: the segments where incidents happen, each period.

Incidents live in combinations (``platform=ios & city=Busan``), not only in single
values. With ``watch_segments: true`` every cell of the lattice attribution searches
(single values and combinations, built by the job as :class:`Cells`) is judged at each
period on its accumulated evidence (:mod:`agent.detect.evidence`): the shift since a
recent onset against its own noise, sampling included, so a 4 % segment that loses
most of its conversion stands out within a few periods while the total barely moves.
A cell's p-value is that evidence's (or, for one period far off, beyond
:func:`agent.detect.sustained.spike_z`, that period's own normal tail).

**False discoveries.** Benjamini–Hochberg at ``q`` runs across every cell and direction
judged in the period (:func:`agent.detect.watch.discoveries`): with every cell calm it
alarms in at most a share ``q`` of periods, however many cells are searched.

**One finding per story.** Found segments that share leaves tell one story, and what
each does without the other decides which is told (a remainder "moved" when its p-value
is below ``BROADER``):

* a cell and a found ancestor (or the whole metric, when it moved by a warning's
  evidence): if the rest of the ancestor moved too, the move is broader than the cell
  and the ancestor is kept; if it stayed calm, the cell explains the ancestor and the
  cell is kept;
* two overlapping segments neither of which contains the other (``region=Seoul`` and
  ``device=desktop``, whose common part is a combination not watched): the stronger is
  kept, and the weaker too only if it moved without the stronger's leaves.

Remainders are summed from the cube's leaves, whatever the volume of the cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from agent.detect.evidence import Scan
from agent.detect.sustained import Rows, critical_p, reason, warning_p
from agent.detect.watch import discoveries
from agent.model import Direction, Finding, FindingKind, Segment, Severity

__all__ = ["BROADER", "Cells", "Judgement", "watch_period"]

BROADER = 0.01
"""An ancestor's remainder with a p-value below this moved too: the ancestor is kept."""


@dataclass(frozen=True)
class Cells:
    """The watched segments of one metric and their series, one column per segment."""

    metric: str
    segments: list[Segment]
    num: np.ndarray
    """Periods x cells (periods in ``rows.index`` order); NaN where a cell is not judged."""
    den: np.ndarray
    additive: bool
    members: np.ndarray
    """Cells x leaves: which leaves (finest segments of the cube) each cell holds."""
    leaves: tuple[np.ndarray, np.ndarray]
    """Every leaf's (num, den), periods x leaves: the whole metric and any part of it."""

    def part(self, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(num, den) per period of the leaves marked by ``inside`` (leaves x columns)."""
        num, den = self.leaves
        return num @ inside, den @ inside

    def values(self, num: np.ndarray, den: np.ndarray) -> np.ndarray:
        if self.additive:
            return num
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den, np.nan)

    def value(self, segment: Segment, position: int) -> float:
        """The value of ``segment`` at period ``position`` (NaN when not watched)."""
        if segment not in self.segments:
            return float("nan")
        cell = self.segments.index(segment)
        num, den = self.num[position : position + 1, cell], self.den[position : position + 1, cell]
        return float(self.values(num, den)[0])


@dataclass(frozen=True)
class Judgement:
    """How one period is judged: its rows, sampling model, directions and levels."""

    rows: Rows
    noise: str
    directions: tuple[Direction, ...]
    q: float
    sensitivity: str
    band_z: float
    spike: float
    """One period alone is evidence from this many sigmas."""


def watch_period(cells: Cells, period: pd.Timestamp, how: Judgement) -> list[Finding]:
    """The findings of the watched segments at ``period`` that survive false-discovery
    control and nesting (see the module doc)."""
    values = cells.values(cells.num, cells.den)
    tests = len(cells.segments) * len(how.directions)
    found = how.rows.scan(values, cells.den, period, how.noise, how.q / max(tests, 1))
    if found is None:
        return []
    scans = dict(zip((Direction.DOWN, Direction.UP), found, strict=True))
    p = {d: _p_values(scans[d], how.spike) for d in how.directions}
    flat = np.concatenate([p[d] for d in how.directions])
    keep = discoveries(flat, how.q)
    n = len(cells.segments)
    out = []
    for i, direction in enumerate(how.directions):
        hits = set(np.flatnonzero(keep[i * n : (i + 1) * n]).tolist())
        hits = _nested(cells, hits, p[direction], period, how, direction)
        out += [_finding(cells, c, period, how, direction, scans[direction], p[direction][c])
                for c in sorted(hits)]  # fmt: skip
    return out


def _p_values(found: Scan, far: float) -> np.ndarray:
    """Accumulated evidence's p-value, or one period's own tail when it is ``far`` sigmas
    off or more (the smaller of the two)."""
    # imported on use: see agent/__init__.py
    from scipy.special import ndtr

    spike = np.where(np.nan_to_num(found.spike, nan=-np.inf) >= far, found.spike, -np.inf)
    p: np.ndarray = np.nan_to_num(np.minimum(found.p, ndtr(-spike)), nan=1.0)
    return p


def _nested(
    cells: Cells,
    hits: set[int],
    p: np.ndarray,
    period: pd.Timestamp,
    how: Judgement,
    direction: Direction,
) -> set[int]:
    """``hits`` less the segments another found one tells better (see the module doc)."""
    kept = _ancestry(cells, hits, period, how, direction)
    return _overlaps(cells, kept, p, period, how, direction)


def _ancestry(
    cells: Cells, hits: set[int], period: pd.Timestamp, how: Judgement, direction: Direction
) -> set[int]:
    """``hits`` less the cells that a found ancestor (or the moved total) tells better,
    and the ancestors that a found cell explains."""
    members = cells.members
    pairs = [(a, c) for c in hits for a in hits if a != c and not (members[c] & ~members[a]).any()]
    everything = np.ones(members.shape[1], dtype=bool)
    if (
        hits
        and _moved(cells, everything[:, None], period, how, direction, warning_p(how.sensitivity))[
            0
        ]
    ):
        pairs += [(-1, c) for c in hits]
    if not pairs:
        return hits
    rest = np.column_stack([(everything if a < 0 else members[a]) & ~members[c] for a, c in pairs])
    broader = _moved(cells, rest, period, how, direction, BROADER)
    dropped = {c if wide else a for (a, c), wide in zip(pairs, broader, strict=True)}
    return hits - dropped


def _overlaps(
    cells: Cells,
    hits: set[int],
    p: np.ndarray,
    period: pd.Timestamp,
    how: Judgement,
    direction: Direction,
) -> set[int]:
    """``hits`` less each segment that shares leaves with a stronger one kept and did not
    move without them (``region=Seoul`` found only through its share of ``device=desktop``)."""
    members = cells.members
    order = sorted(hits, key=lambda c: (p[c], c))
    pairs = [
        (h, k) for i, h in enumerate(order) for k in order[:i] if (members[h] & members[k]).any()
    ]
    if not pairs:
        return hits
    rest = np.column_stack([members[h] & ~members[k] for h, k in pairs])
    moved = dict(zip(pairs, _moved(cells, rest, period, how, direction, BROADER), strict=True))
    kept: list[int] = []
    for h in order:
        if all(moved[h, k] for k in kept if (h, k) in moved):
            kept.append(h)
    return set(kept)


def _moved(
    cells: Cells,
    inside: np.ndarray,
    period: pd.Timestamp,
    how: Judgement,
    direction: Direction,
    level: float,
) -> np.ndarray:
    """Whether the part of the metric in each column of ``inside`` (leaves x columns)
    moved in ``direction`` with a p-value below ``level``."""
    num, den = cells.part(inside.astype(float))
    found = how.rows.scan(cells.values(num, den), den, period, how.noise, level)
    if found is None:
        return np.zeros(inside.shape[1], dtype=bool)
    scan = found[0] if direction is Direction.DOWN else found[1]
    moved: np.ndarray = np.nan_to_num(scan.p, nan=1.0) <= level
    return moved


def _finding(
    cells: Cells,
    cell: int,
    period: pd.Timestamp,
    how: Judgement,
    direction: Direction,
    found: Scan,
    p: float,
) -> Finding:
    index = how.rows.index
    since = index[how.rows.positions[int(found.onset[cell])]]
    after, before = float(found.after[cell]), float(found.before[cell])
    expected, half = float(found.expected[cell]), how.band_z * float(found.sigma[cell])
    z = max(float(found.z[cell]), float(found.spike[cell]))
    return Finding(
        metric=cells.metric,
        segment=dict(cells.segments[cell]),
        kind=FindingKind.ANOMALY,
        period=period,
        value=after,
        expected=before,
        lower=expected - half,
        upper=expected + half,
        direction=direction,
        severity=Severity.CRITICAL if p <= critical_p(how.sensitivity) else Severity.WARNING,
        score=z,
        since=since,
        reason=reason(direction, found, cell, since, z),
        p_value=p,
    )
