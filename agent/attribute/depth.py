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

_SLACK = 1e-6
"""Relative room left to rounding when a bound rules cells out: never one that passes."""


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
    keys = _keys(lattice, deep)
    per_layer: dict[int, int] = {}
    for cuboid, (_, present) in zip(deep, keys, strict=True):
        per_layer[len(cuboid)] = per_layer.get(len(cuboid), 0) + present
    need = {
        k: MARGIN * needed_z2(2 * float(np.log(max(n, 1))), alpha) for k, n in per_layer.items()
    }
    kept = _screened(lattice, deep, keys, need, excess, info)
    return lattice.with_deep(deep, kept, [present for _, present in keys])


def _keys(lattice: Lattice, deep: list[tuple[int, ...]]) -> list[tuple[np.ndarray, int]]:
    """Per deep cuboid: each leaf's cell, numbered from 0 among the cells holding a leaf
    in the order of ``SPAN``'s numbering, and how many cells hold a leaf.

    A cuboid's cells extend its prefix cuboid's (``(a, b, c, d)`` from ``(a, b, c)``),
    which ``combinations`` lists earlier; cells are numbered in a range of all possible
    ones while it stays within ``SPAN`` per leaf, else only those present are (in order
    of first appearance).
    """
    index = {cuboid: j for j, cuboid in enumerate(lattice.cuboids)}
    spans: dict[tuple[int, ...], tuple[np.ndarray, int]] = {}
    out = []
    for cuboid in deep:
        prefix, last = cuboid[:-1], cuboid[-1]
        if prefix in spans:
            base, size = spans[prefix]
        else:
            j = index[prefix]
            base, size = lattice.cells[j], int(lattice.offsets[j + 1] - lattice.offsets[j])
        card = len(lattice.labels[last])
        key, size = base * card + lattice.codes[:, last], size * card
        if size > SPAN * len(key):
            key, uniques = pd.factorize(key)
            size = len(uniques)
            out.append((key, size))
        else:  # a boolean scatter, then each present cell's rank: no sorting, no hashing
            seen = np.zeros(size, dtype=bool)
            seen[key] = True
            rank = _ranks(seen)
            out.append((rank[key], int(rank[-1]) + 1))
        spans[cuboid] = (key, size)
    return out


def _screened(
    lattice: Lattice,
    deep: list[tuple[int, ...]],
    keys: list[tuple[np.ndarray, int]],
    need: dict[int, float],
    excess: np.ndarray,
    info: np.ndarray,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per deep cuboid, its leaves in cells whose z² reaches ``need`` of their layer (sorted)
    and those cells' numbers from 0, in the order of their ``keys``.

    By Cauchy–Schwarz a cell's z² is at most the sum of its leaves' own z² (``bound``),
    and a cell's leaves are among its prefix cell's: so only the leaves of prefix cells
    whose bound reaches what the layers below need are scored.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(info > 0, excess * excess / info, 0.0)
    floor = {k: (1 - _SLACK) * min(v for j, v in need.items() if j >= k) for k in need}
    index = {cuboid: j for j, cuboid in enumerate(lattice.cuboids)}
    alive: dict[tuple[int, ...], np.ndarray] = {}
    out = []
    for cuboid, (key, size) in zip(deep, keys, strict=True):
        layer, prefix = len(cuboid), cuboid[:-1]
        if prefix not in alive:  # a full cuboid of the lattice
            j = index[prefix]
            held = int(lattice.offsets[j + 1] - lattice.offsets[j])
            sums = np.bincount(lattice.cells[j], bound, held)
            alive[prefix] = np.flatnonzero(sums[lattice.cells[j]] >= floor[layer])
        rows = alive[prefix]
        cell = key[rows]
        score = np.bincount(cell, excess[rows], size)
        information = np.bincount(cell, info[rows], size)
        keep = (score * score >= need[layer] * information) & ((information > 0) | (score != 0))
        held = keep[cell]
        out.append((rows[held], _ranks(keep)[cell[held]].astype(np.int64)))
        if layer + 1 in floor:
            sums = np.bincount(cell, bound[rows], size)
            alive[cuboid] = rows[sums[cell] >= floor[layer + 1]]
    return out


def _ranks(flags: np.ndarray) -> np.ndarray:
    """Per position, how many ``flags`` are set before it (its rank when it is set).

    Summed in 32 bits, several times faster than numpy's 64-bit running sum of booleans.
    """
    return np.cumsum(flags, dtype=np.int32) - 1
