"""Which cells deeper than ``SHALLOW`` dimensions are candidates.

Causes may sit at any depth up to ``MAX_DEPTH`` dimensions (a single leaf of a cube of
four), but the search's rounds rank every candidate cell, and deep cuboids hold about
as many cells as there are leaves: keeping them all makes every round several times
dearer, for cells that almost never matter. So each deep cuboid is scored once, on the
change before any cause is taken out, and keeps as candidates only its cells whose z²
reaches ``MARGIN`` of what a cause needs at that layer (the corrected chance ``ALPHA``
of ``search.py``). That costs a few passes over the leaves per deep cuboid (each
extends the cells of the one before it by one dimension), and the rounds then cost
what they cost with ``SHALLOW`` layers.
"""

from __future__ import annotations

from itertools import combinations
from statistics import NormalDist

import numpy as np
import pandas as pd

from agent.attribute.lattice import SHALLOW, Lattice

__all__ = ["MAX_DEPTH", "deepen", "needed_z2"]

MAX_DEPTH = 6
"""Causes are searched among combinations of up to this many dimensions."""

SPAN = 8
"""A deep cuboid numbers its possible cells while there are at most this many per leaf."""

MARGIN = 0.5
"""Share of the z² a cause needs that a deep cell must show to stay a candidate: causes
taken out later may leave it more to explain than it showed at first."""


def needed_z2(penalty: float, alpha: float) -> float:
    """The z² whose chance, corrected by ``exp(penalty / 2)``, is ``alpha``."""
    p = alpha * float(np.exp(-penalty / 2))
    if p >= 1:
        return 0.0
    return NormalDist().inv_cdf(max(p / 2, 1e-300)) ** 2


def deepen(
    lattice: Lattice,
    excess: np.ndarray,
    info: np.ndarray,
    alpha: float,
    depth: int = MAX_DEPTH,
) -> Lattice:
    """``lattice`` with the candidate cells of up to ``depth`` dimensions.

    ``excess`` and ``info`` are each leaf's score over the common level and its
    information, at the search's noise scale.
    """
    dims = len(lattice.dimensions)
    layers = range(SHALLOW + 1, min(depth, dims) + 1)
    deep = [c for k in layers for c in combinations(range(dims), k)]
    if not deep or len(lattice.cuboids) < dims:
        return lattice
    scored = _scored(lattice, deep, excess, info)
    present = [int((count > 0).sum()) for _, _, _, count in scored]
    per_layer: dict[int, int] = {}
    for cuboid, n in zip(deep, present, strict=True):
        per_layer[len(cuboid)] = per_layer.get(len(cuboid), 0) + n
    kept = []
    for cuboid, (key, score, information, _) in zip(deep, scored, strict=True):
        need = MARGIN * needed_z2(2 * float(np.log(max(per_layer[len(cuboid)], 1))), alpha)
        keep = (score * score >= need * information) & ((information > 0) | (score != 0))
        cells = np.flatnonzero(keep)
        rows = np.flatnonzero(keep[key]) if len(cells) else np.zeros(0, dtype=np.int64)
        kept.append((rows, np.searchsorted(cells, key[rows])))
    return lattice.with_deep(deep, kept, present)


def _scored(
    lattice: Lattice, deep: list[tuple[int, ...]], excess: np.ndarray, info: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per deep cuboid: each leaf's cell, and each cell's score, information and count.

    A cuboid's cells extend its prefix cuboid's (``(a, b, c, d)`` from ``(a, b, c)``),
    which ``combinations`` lists earlier; cells are numbered in a range of all possible
    ones while it stays within ``SPAN`` per leaf, else only those present are.
    """
    index = {cuboid: j for j, cuboid in enumerate(lattice.cuboids)}
    keys: dict[tuple[int, ...], tuple[np.ndarray, int]] = {}
    out = []
    for cuboid in deep:
        prefix, last = cuboid[:-1], cuboid[-1]
        if prefix in keys:
            base, size = keys[prefix]
        else:
            j = index[prefix]
            base, size = lattice.cells[j], int(lattice.offsets[j + 1] - lattice.offsets[j])
        card = len(lattice.labels[last])
        key, size = base * card + lattice.codes[:, last], size * card
        if size > SPAN * len(key):
            key, uniques = pd.factorize(key)
            size = len(uniques)
        keys[cuboid] = (key, size)
        score = np.bincount(key, excess, size)
        out.append((key, score, np.bincount(key, info, size), np.bincount(key, None, size)))
    return out
