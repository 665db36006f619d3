"""Which cells deeper than ``SHALLOW`` dimensions are candidates.

Causes may sit at any depth up to ``MAX_DEPTH`` dimensions (a single leaf of a cube of
four), but the search's rounds rank every candidate cell, and deep cuboids hold about
as many cells as there are leaves: keeping them all makes every round several times
dearer, for cells that almost never matter. So each deep cuboid is scored once, on the
change before any cause is taken out, and keeps as candidates only its cells whose z²
reaches ``MARGIN`` of what a cause needs at that layer (the corrected chance ``ALPHA``
of ``search.py``). That costs a few passes over the leaves per deep cuboid, and the
rounds then cost what they cost with ``SHALLOW`` layers.
"""

from __future__ import annotations

from itertools import combinations
from statistics import NormalDist

import numpy as np

from agent.attribute.lattice import SHALLOW, Lattice

__all__ = ["MAX_DEPTH", "deepen", "needed_z2"]

MAX_DEPTH = 6
"""Causes are searched among combinations of up to this many dimensions."""

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
    scored = [_score(lattice, cuboid, excess, info) for cuboid in deep]
    present = [int((count > 0).sum()) for _, _, count in scored]
    per_layer: dict[int, int] = {}
    for cuboid, n in zip(deep, present, strict=True):
        per_layer[len(cuboid)] = per_layer.get(len(cuboid), 0) + n
    kept = []
    for cuboid, (key, z2, _) in zip(deep, scored, strict=True):
        need = needed_z2(2 * float(np.log(max(per_layer[len(cuboid)], 1))), alpha)
        keep = z2 >= MARGIN * need
        rows = np.flatnonzero(keep[key])
        numbers = np.cumsum(keep) - 1
        kept.append((rows, numbers[key[rows]]))
    return lattice.with_deep(deep, kept, present)


def _score(
    lattice: Lattice, cuboid: tuple[int, ...], excess: np.ndarray, info: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(each leaf's cell, each cell's z², each cell's count of leaves) of one cuboid."""
    key, size = lattice.numbers(cuboid)
    score = np.bincount(key, excess, size)
    information = np.bincount(key, info, size)
    with np.errstate(divide="ignore", invalid="ignore"):
        z2 = np.where(information > 0, score * score / information, np.where(score, np.inf, 0.0))
    return key, z2, np.bincount(key, None, size)
