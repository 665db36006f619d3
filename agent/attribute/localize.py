"""Root causes of a change in a leaf table, across dimensions (DESIGN §5).

``localize`` searches the segment lattice (``search.py``) for the segments whose own
move explains the change. For a ratio metric it searches twice: where the rate moved
(numerator against the expectation at the actual denominator) and where the population
moved (denominator against its expected share); a population move is kept only when it
moves the metric, i.e. when its Shapley share of the change (``decompose.py``) is at
least ``MIN_SHARE`` in the direction of the change and mostly mix effect (a segment
whose rate moved is the rate search's to name). Every cause carries its rate/mix
split, sizes and values before/after, and a confidence: 1 minus the chance probability
of its move under the fitted noise, corrected for the number of segments searched.

Dimensions are also ranked one at a time in the Adtributor spirit: by the largest share
a single value of the dimension explains, ties going to the larger Jensen–Shannon
surprise between the before and after distributions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from agent.attribute.decompose import LEAF_COLUMNS, array_split, effect_columns, unit_variance
from agent.attribute.depth import MAX_DEPTH
from agent.attribute.evidence import chance
from agent.attribute.lattice import SHALLOW, Lattice
from agent.attribute.noise import Noise
from agent.attribute.problems import mix_problem, rate_problem
from agent.attribute.search import Found, search
from agent.model import Cause, Segment

__all__ = ["MAX_DEPTH", "MIN_SHARE", "Localization", "localize"]

MIN_SHARE = 0.05
"""Segments explaining less than this share of the change are not causes."""

Columns = dict[str, np.ndarray]
"""The columns of a ``split`` table (``decompose.table``), one row per value."""


@dataclass(frozen=True)
class Localization:
    """What ``localize`` found, and what it looked at.

    ``explained`` is the share of the change the causes account for together (the
    Shapley contribution of all their leaves at once, clipped to [0, 1]); ``others`` is
    the rest. ``checked`` lists the dimensions searched, best single-dimension
    explanation first; ``segments_checked`` counts the segments (single values and
    combinations) scored. ``ruled_out`` holds, per checked dimension, its strongest
    value that is not a cause; its ``confidence`` is how surprising what remains of its
    move is once the causes are taken out.
    """

    causes: list[Cause]
    explained: float
    others: float
    checked: list[str] = field(default_factory=list)
    segments_checked: int = 0
    ruled_out: list[Cause] = field(default_factory=list)


def localize(
    leaves: pd.DataFrame,
    dimensions: list[str],
    *,
    additive: bool,
    top: int = 5,
    depth: int = MAX_DEPTH,
) -> Localization:
    """Ranked causes of the change in ``leaves`` (dimension columns, num/den before/after).

    Causes are combinations of up to ``depth`` dimensions.
    """
    lattice = Lattice.build(leaves, dimensions, min(depth, SHALLOW))
    unit = None if additive else unit_variance(leaves)
    values = np.asfortranarray(leaves[LEAF_COLUMNS].to_numpy(float))  # columns contiguous
    tables = _dimension_tables(values, lattice, additive, unit)
    if not tables:
        return Localization([], 0.0, 1.0, checked=lattice.dimensions)
    dims = sorted(tables, key=lambda d: _power(tables[d], additive), reverse=True)
    rate = rate_problem(values, additive)
    found, pred, scored = search(lattice, *rate, limit=top, depth=depth)
    causes = _causes(values, lattice, found, additive, unit)
    if not additive:
        causes += _population_causes(values, lattice, causes, unit, top, depth)
    causes = _rank(causes)[:top]
    explained = _explained(values, lattice, causes, additive, unit)
    ruled_out = _ruled_out(lattice, {d: tables[d] for d in dims}, causes, (rate[0] - pred, rate[2]))
    checked = dims + [d for d in lattice.dimensions if d not in tables]
    return Localization(causes, explained, 1.0 - explained, checked, scored, ruled_out)


def _causes(
    values: np.ndarray, lattice: Lattice, found: list[Found], additive: bool, unit: float | None
) -> list[Cause]:
    """A Cause per segment found."""
    return [
        _cause(
            f.segment,
            array_split(values, lattice.mask(f.segment), additive=additive, unit=unit),
            1.0 - f.p_value,
        )
        for f in found
    ]


def _population_causes(
    values: np.ndarray,
    lattice: Lattice,
    named: list[Cause],
    unit: float | None,
    top: int,
    depth: int,
) -> list[Cause]:
    """Segments whose share of the population moved the metric, mostly by mix effect."""
    moved = search(lattice, *mix_problem(values), limit=top, directed=False, depth=depth)[0]
    segments = [c.segment for c in named]
    return [
        c
        for c in _causes(values, lattice, moved, False, unit)
        if c.share >= MIN_SHARE
        and abs(c.mix_effect) > abs(c.rate_effect)
        and c.segment not in segments
    ]


def _rank(causes: list[Cause]) -> list[Cause]:
    """Largest (uncapped) share first; ties go to the more general, then the surer cause.

    When the causes' move is hidden in a total moving the other way by chance, their
    shares are negative: the largest in size comes first.
    """
    return sorted(causes, key=lambda c: (-round(abs(c.share), 2), len(c.segment), -c.confidence))


def _explained(
    values: np.ndarray, lattice: Lattice, causes: list[Cause], additive: bool, unit: float | None
) -> float:
    if not causes:
        return 0.0
    union = np.logical_or.reduce([lattice.mask(c.segment) for c in causes])
    share = float(array_split(values, union, additive=additive, unit=unit)["share"])
    return float(np.clip(share, 0.0, 1.0))


def _ruled_out(
    lattice: Lattice,
    tables: dict[str, Columns],
    causes: list[Cause],
    residual: tuple[np.ndarray, Noise],
) -> list[Cause]:
    """Per dimension, its largest-share value that is not a cause, with how surely what
    remains of its move once the causes are taken out is real (``confidence``), how surely
    its own value moved (``moved``: the dimension table's own test) and the causes it
    shares customers with (``overlaps``): what the report needs to tell a move the causes
    explain from one within noise. Both confidences count that it was picked as the most
    moved of its dimension's values (Šidák)."""
    resid, noise = residual
    covered = np.logical_or.reduce([lattice.mask(c.segment) for c in causes], initial=False)
    scale = noise.dispersion(resid, ~np.broadcast_to(covered, resid.shape))
    named = [c.segment for c in causes]
    out = []
    for dim, columns in tables.items():
        free = np.flatnonzero([{dim: str(v)} not in named for v in columns["value"]])
        if not len(free):
            continue
        best = free[np.argmax(columns["share"][free])]  # the first of equals
        row = {name: column[best] for name, column in columns.items()}
        segment = {dim: str(row["value"])}
        mask = lattice.mask(segment)
        z2 = _z2(resid[mask].sum(), noise.variance[mask].sum() * scale)
        overlaps = [c.segment for c in causes if (lattice.mask(c.segment) & mask).any()]
        picked = len(columns["value"])  # it is the most moved of them: Šidák's correction
        cause = _cause(segment, row, (1 - chance(z2)) ** picked)
        moved = float(row["confidence"]) ** picked
        out.append(replace(cause, moved=moved, overlaps=overlaps))
    return out


def _z2(r: float, v: float) -> float:
    if v > 0:
        return r * r / v
    return np.inf if r != 0 else 0.0


def _cause(segment: Segment, row: Mapping[str, Any], confidence: float) -> Cause:
    return Cause(
        segment=dict(segment),
        share=float(row["share"]),
        value_before=float(row["rate_before"]),
        value_after=float(row["rate_after"]),
        size_before=float(row["size_before"]),
        size_after=float(row["size_after"]),
        rate_effect=float(row["rate_effect"]),
        mix_effect=float(row["mix_effect"]),
        confidence=float(np.clip(confidence, 0.0, 1.0)),
    )


def _dimension_tables(
    values: np.ndarray, lattice: Lattice, additive: bool, unit: float | None
) -> dict[str, Columns]:
    """``split`` of every dimension that saw a net change, from the lattice's cells."""
    tables = {}
    for d, dim in enumerate(lattice.dimensions):
        sums = lattice.sums(d, values)
        order = np.argsort(lattice.text[d], kind="stable")
        columns = effect_columns(sums[:, order], additive, unit)
        tables[dim] = {"value": lattice.labels[d][order]} | columns
    return {dim: t for dim, t in tables.items() if _changed(t)}


def _changed(table: Columns) -> bool:
    """False when the net change is nil relative to the segments' gross movement."""
    contribution = table["contribution"]
    total = abs(contribution.sum())
    return bool(np.isfinite(total)) and total > 1e-9 * np.abs(contribution).sum()


def _power(table: Columns, additive: bool) -> tuple[float, float]:
    """(largest single-value share, capped and rounded; JS surprise) of a dimension."""
    surprise = _surprise(table["num_before"], table["num_after"])
    if not additive:
        surprise += _surprise(table["den_before"], table["den_after"])
    return round(min(float(table["share"].max()), 1.0), 2), surprise


def _surprise(before: np.ndarray, after: np.ndarray) -> float:
    """Squared Jensen–Shannon distance (base 2) between two non-negative distributions."""
    # imported on use: see agent/__init__.py
    from scipy.spatial.distance import jensenshannon

    p = np.clip(before, 0, None)
    q = np.clip(after, 0, None)
    if p.sum() <= 0 or q.sum() <= 0:
        return 0.0
    return float(jensenshannon(p, q, base=2) ** 2)
