"""The segment lattice: every cell of every combination of dimensions, indexed once.

A *cuboid* is a combination of up to ``max_layer`` dimensions (``channel``,
``channel & device``, ...); a *cell* is one of its segments (``channel=app & device=android``).
All cells of all cuboids share one flat numbering: a sum per cell over every cuboid is
one array (one ``np.bincount`` per cuboid), and the search ranks every candidate
segment with one ``argmax``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

__all__ = ["Lattice"]

_SPARSE_FACTOR = 4
"""A cuboid with more possible cells than this many per leaf numbers its present cells only."""


@dataclass(frozen=True)
class Lattice:
    """Leaves encoded once: each leaf's cell in every cuboid.

    Dimensions with a single value are left out: they cannot tell segments apart.
    """

    dimensions: list[str]
    codes: np.ndarray
    """Leaves × dimensions: the code of each leaf's value."""
    labels: list[np.ndarray]
    """Per dimension, its values (code order)."""
    text: list[np.ndarray]
    """Per dimension, its values as strings (how segments name them)."""
    cuboids: list[tuple[int, ...]]
    cells: np.ndarray
    """Leaves × cuboids (Fortran order): each leaf's cell, numbered within its cuboid."""
    offsets: np.ndarray
    """Flat index of each cuboid's first cell; the last entry is the number of cells."""
    count: np.ndarray
    """Leaves per flat cell."""
    layer: np.ndarray
    """Number of dimensions of each flat cell's cuboid."""
    ancestors: list[list[int]]
    """Per cuboid, the cuboids made of a proper subset of its dimensions."""

    @classmethod
    def build(cls, leaves: pd.DataFrame, dimensions: list[str], max_layer: int) -> Lattice:
        factorized = [pd.factorize(leaves[d], use_na_sentinel=False) for d in dimensions]
        varied = [i for i, (_, values) in enumerate(factorized) if len(values) > 1]
        labels = [np.asarray(factorized[i][1], dtype=object) for i in varied]
        codes = np.zeros((len(leaves), len(varied)), dtype=np.int64, order="F")
        for j, i in enumerate(varied):
            codes[:, j] = factorized[i][0]
        layers = range(1, min(max_layer, len(varied)) + 1)
        cuboids = [c for k in layers for c in combinations(range(len(varied)), k)]
        cells, sizes = _cell_matrix(codes, [len(v) for v in labels], cuboids)
        offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        return cls(
            dimensions=[dimensions[i] for i in varied],
            codes=codes,
            labels=labels,
            text=[np.array([str(v) for v in values]) for values in labels],
            cuboids=cuboids,
            cells=cells,
            offsets=offsets,
            count=_per_cell(cells, offsets, None),
            layer=np.repeat([len(c) for c in cuboids], sizes).astype(np.int64),
            ancestors=[[j for j, a in enumerate(cuboids) if set(a) < set(c)] for c in cuboids],
        )

    @property
    def size(self) -> int:
        """Number of flat cells."""
        return int(self.offsets[-1])

    def per_cell(self, values: np.ndarray | None, rows: np.ndarray | None = None) -> np.ndarray:
        """Per flat cell, the sum of a per-leaf value (None: the count of leaves), over
        the leaves in ``rows`` when given."""
        return _per_cell(self.cells if rows is None else self.cells[rows], self.offsets, values)

    def cuboid_of(self, cell: int) -> int:
        """The cuboid a flat cell belongs to."""
        return int(np.searchsorted(self.offsets, cell, side="right")) - 1

    def cell(self, leaf: int, cuboid: int) -> int:
        """The flat index of a leaf's cell in one cuboid."""
        return int(self.cells[leaf, cuboid] + self.offsets[cuboid])

    def members(self, cell: int) -> np.ndarray:
        """Boolean leaf mask of one flat cell."""
        cuboid = self.cuboid_of(cell)
        return self.cells[:, cuboid] == cell - self.offsets[cuboid]

    def present(self) -> np.ndarray:
        """Per cuboid, how many of its cells hold at least one leaf."""
        if not self.cuboids:
            return np.zeros(0, dtype=np.int64)
        return np.add.reduceat((self.count > 0).astype(np.int64), self.offsets[:-1])

    def sums(self, cuboid: int, values: np.ndarray) -> np.ndarray:
        """Per cell of one cuboid, the sums of each column of ``values``.

        Cuboid ``d`` is dimension ``d`` alone: its cells are that dimension's codes.
        """
        size = int(self.offsets[cuboid + 1] - self.offsets[cuboid])
        key = self.cells[:, cuboid]
        return np.vstack([np.bincount(key, column, size) for column in values.T])

    def segment(self, cell: int) -> dict[str, str]:
        """The ``{dimension: value}`` of one flat cell (values as strings)."""
        leaf = int(np.argmax(self.members(cell)))
        dims = self.cuboids[self.cuboid_of(cell)]
        return {self.dimensions[d]: str(self.text[d][self.codes[leaf, d]]) for d in dims}

    def mask(self, segment: dict[str, str]) -> np.ndarray:
        """Boolean leaf mask of a segment given as ``{dimension: value}``."""
        inside = np.ones(len(self.codes), dtype=bool)
        for dim, value in segment.items():
            d = self.dimensions.index(dim)
            inside &= (self.text[d] == value)[self.codes[:, d]]
        return inside


def _per_cell(cells: np.ndarray, offsets: np.ndarray, values: np.ndarray | None) -> np.ndarray:
    """Per flat cell, the sum of ``values`` (the count of leaves when None)."""
    out = np.empty(int(offsets[-1]), dtype=np.int64 if values is None else float)
    for j in range(cells.shape[1]):
        start, stop = int(offsets[j]), int(offsets[j + 1])
        out[start:stop] = np.bincount(cells[:, j], values, stop - start)
    return out


def _cell_matrix(
    codes: np.ndarray, cards: list[int], cuboids: list[tuple[int, ...]]
) -> tuple[np.ndarray, list[int]]:
    """(leaves × cuboids cell numbers, cells per cuboid).

    A cuboid's cells extend its prefix cuboid's (``(a, b, c)`` from ``(a, b)``), which
    ``combinations`` lists earlier: every possible cell when they are few, else only the
    cells present, numbered in the same order.
    """
    cells = np.empty((len(codes), len(cuboids)), dtype=np.int64, order="F")
    index = {cuboid: j for j, cuboid in enumerate(cuboids)}
    sizes: list[int] = []
    for j, cuboid in enumerate(cuboids):
        column, last = cells[:, j], cuboid[-1]
        if len(cuboid) == 1:
            column[:] = codes[:, last]
            sizes.append(cards[last])
            continue
        prefix = index[cuboid[:-1]]
        np.multiply(cells[:, prefix], cards[last], out=column)
        np.add(column, codes[:, last], out=column)
        size = sizes[prefix] * cards[last]
        if size > _SPARSE_FACTOR * len(codes):
            _, numbers = np.unique(column, return_inverse=True)
            column[:] = numbers
            size = int(numbers.max(initial=0)) + 1
        sizes.append(size)
    return cells, sizes
