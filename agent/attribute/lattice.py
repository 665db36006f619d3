"""The segment lattice: cells of combinations of dimensions, indexed once.

A *cuboid* is a combination of dimensions (``channel``, ``channel & device``, ...); a
*cell* is one of its segments (``channel=app & device=android``). All cells of all
cuboids share one flat numbering: a sum per cell over every cuboid is one array (one
``np.bincount`` per cuboid), and the search ranks every candidate segment with one
``argmax``.

``Lattice.build`` holds every cell of the cuboids of up to ``SHALLOW`` dimensions.
Deeper cuboids are added by ``with_deep`` for the leaves a screen lets through
(``depth.py``): a deep cuboid then holds only the cells of those leaves, each with all of
its leaves, and the ``possible`` count of its cells stands for the ones left out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np
import pandas as pd

__all__ = ["SHALLOW", "Lattice"]

SHALLOW = 3
"""Cuboids of up to this many dimensions hold every cell."""

_SPARSE_FACTOR = 4
"""A cuboid with more possible cells than this many per leaf numbers its present cells only."""


@dataclass(frozen=True)
class Lattice:
    """Leaves encoded once: each leaf's cell in every cuboid that holds it.

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
    rows: list[np.ndarray | None]
    """Per cuboid, the leaves it holds (sorted), None for all of them."""
    cells: list[np.ndarray]
    """Per cuboid, the cell of each leaf it holds, numbered within the cuboid."""
    offsets: np.ndarray
    """Flat index of each cuboid's first cell; the last entry is the number of cells."""
    count: np.ndarray
    """Leaves per flat cell."""
    layer: np.ndarray
    """Number of dimensions of each flat cell's cuboid."""
    possible: np.ndarray
    """Per cuboid, its cells with a leaf, or (deep cuboids) at most how many there are."""

    @classmethod
    def build(cls, leaves: pd.DataFrame, dimensions: list[str], depth: int = SHALLOW) -> Lattice:
        factorized = [pd.factorize(leaves[d], use_na_sentinel=False) for d in dimensions]
        varied = [i for i, (_, values) in enumerate(factorized) if len(values) > 1]
        labels = [np.asarray(factorized[i][1], dtype=object) for i in varied]
        codes = np.zeros((len(leaves), len(varied)), dtype=np.int64, order="F")
        for j, i in enumerate(varied):
            codes[:, j] = factorized[i][0]
        layers = range(1, min(depth, len(varied)) + 1)
        cuboids = [c for k in layers for c in combinations(range(len(varied)), k)]
        cells, sizes = _cell_columns(codes, [len(v) for v in labels], cuboids)
        offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        count = _per_cell(cells, [None] * len(cells), offsets, None, None)
        lattice = cls(
            dimensions=[dimensions[i] for i in varied],
            codes=codes,
            labels=labels,
            text=[np.array([str(v) for v in values]) for values in labels],
            cuboids=cuboids,
            rows=[None] * len(cuboids),
            cells=cells,
            offsets=offsets,
            count=count,
            layer=np.repeat([len(c) for c in cuboids], sizes).astype(np.int64),
            possible=np.zeros(len(cuboids), dtype=np.int64),
        )
        return replace(lattice, possible=lattice.present())

    def with_deep(
        self,
        cuboids: list[tuple[int, ...]],
        kept: list[tuple[np.ndarray, np.ndarray]],
        present: list[int],
    ) -> Lattice:
        """This lattice and some cells of ``cuboids``: per cuboid, (its leaves that are
        kept, sorted; their cell numbers, from 0) and how many cells it has in all."""
        rows = [held for held, _ in kept]
        cells = [numbers for _, numbers in kept]
        sizes = [int(numbers.max(initial=-1)) + 1 for numbers in cells]
        offsets = np.concatenate([self.offsets, self.offsets[-1] + np.cumsum(sizes)])
        count = _per_cell(cells, list(rows), offsets[len(self.cuboids) :], None, None)
        return replace(
            self,
            cuboids=self.cuboids + cuboids,
            rows=self.rows + list(rows),
            cells=self.cells + cells,
            offsets=offsets,
            count=np.concatenate([self.count, count]),
            layer=np.concatenate([self.layer, np.repeat([len(c) for c in cuboids], sizes)]),
            possible=np.concatenate([self.possible, np.array(present, dtype=np.int64)]),
        )

    @property
    def size(self) -> int:
        """Number of flat cells."""
        return int(self.offsets[-1])

    def per_cells(
        self, values: list[np.ndarray | None], members: np.ndarray | None = None
    ) -> list[np.ndarray]:
        """Per flat cell, the sum of each per-leaf value (None: the count of leaves), over
        the leaves of the boolean mask ``members`` when given."""
        return _per_cells(self.cells, self.rows, self.offsets, values, members)

    def cuboid_of(self, cell: int) -> int:
        """The cuboid a flat cell belongs to."""
        return int(np.searchsorted(self.offsets, cell, side="right")) - 1

    def cell(self, leaf: int, cuboid: int) -> int | None:
        """The flat index of a leaf's cell in one cuboid (None if the cuboid does not hold it)."""
        rows, cells = self.rows[cuboid], self.cells[cuboid]
        if rows is None:
            return int(cells[leaf] + self.offsets[cuboid])
        at = int(np.searchsorted(rows, leaf))
        if at == len(rows) or rows[at] != leaf:
            return None
        return int(cells[at] + self.offsets[cuboid])

    def members(self, cell: int) -> np.ndarray:
        """Boolean leaf mask of one flat cell."""
        cuboid = self.cuboid_of(cell)
        inside: np.ndarray = self.cells[cuboid] == cell - self.offsets[cuboid]
        rows = self.rows[cuboid]
        if rows is None:
            return inside
        mask = np.zeros(len(self.codes), dtype=bool)
        mask[rows[inside]] = True
        return mask

    def present(self) -> np.ndarray:
        """Per cuboid, how many of its cells hold at least one leaf."""
        if not self.cuboids:
            return np.zeros(0, dtype=np.int64)
        return np.add.reduceat((self.count > 0).astype(np.int64), self.offsets[:-1])

    def sums(self, cuboid: int, values: np.ndarray) -> np.ndarray:
        """Per cell of one full cuboid, the sums of each column of ``values``.

        Cuboid ``d`` is dimension ``d`` alone: its cells are that dimension's codes.
        """
        size = int(self.offsets[cuboid + 1] - self.offsets[cuboid])
        key = self.cells[cuboid]
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


def _per_cell(
    cells: list[np.ndarray],
    rows: list[np.ndarray | None],
    offsets: np.ndarray,
    values: np.ndarray | None,
    members: np.ndarray | None,
) -> np.ndarray:
    """Per flat cell, the sum of ``values`` (the count of leaves when None) over ``members``."""
    return _per_cells(cells, rows, offsets, [values], members)[0]


def _per_cells(
    cells: list[np.ndarray],
    rows: list[np.ndarray | None],
    offsets: np.ndarray,
    values: list[np.ndarray | None],
    members: np.ndarray | None,
) -> list[np.ndarray]:
    """``_per_cell`` of several per-leaf values at once: each cuboid's leaves are gathered once."""
    size = int(offsets[-1] - offsets[0])
    out = [np.empty(size, dtype=np.int64 if v is None else float) for v in values]
    index = None if members is None else np.flatnonzero(members)
    for j, (column, held) in enumerate(zip(cells, rows, strict=True)):
        start, stop = int(offsets[j] - offsets[0]), int(offsets[j + 1] - offsets[0])
        leaves: np.ndarray | None = held
        if index is not None and held is None:
            column, leaves = column[index], index
        elif index is not None and held is not None:
            at = np.minimum(np.searchsorted(held, index), max(len(held) - 1, 0))
            hit = held[at] == index if len(held) else np.zeros(0, dtype=bool)
            column, leaves = column[at[hit]], index[hit]
        for target, value in zip(out, values, strict=True):
            weights = value if value is None or leaves is None else value[leaves]
            target[start:stop] = np.bincount(column, weights, stop - start)
    return out


def _cell_columns(
    codes: np.ndarray, cards: list[int], cuboids: list[tuple[int, ...]]
) -> tuple[list[np.ndarray], list[int]]:
    """(per cuboid, each leaf's cell number; cells per cuboid).

    A cuboid's cells extend its prefix cuboid's (``(a, b, c)`` from ``(a, b)``), which
    ``combinations`` lists earlier: every possible cell when they are few, else only the
    cells present, numbered in the same order.
    """
    index = {cuboid: j for j, cuboid in enumerate(cuboids)}
    columns: list[np.ndarray] = []
    sizes: list[int] = []
    for cuboid in cuboids:
        last = cuboid[-1]
        if len(cuboid) == 1:
            columns.append(codes[:, last])
            sizes.append(cards[last])
            continue
        prefix = index[cuboid[:-1]]
        column = columns[prefix] * cards[last] + codes[:, last]
        size = sizes[prefix] * cards[last]
        if size > _SPARSE_FACTOR * len(codes):
            _, column = np.unique(column, return_inverse=True)
            size = int(column.max(initial=0)) + 1
        columns.append(column)
        sizes.append(size)
    return columns, sizes
