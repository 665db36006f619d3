"""Search of the segment lattice for the fewest, most general segments explaining a change.

Every leaf has an actual value ``y`` and the value expected without incident ``f``
(for a ratio metric: the numerator expected at the leaf's actual denominator, so only
rate moves count). A candidate segment is any cell of any combination of up to
``max_layer`` dimensions (``channel=app``, ``channel=app & device=android``, ...).

A segment's evidence is the score test of one common effect on all its leaves,
``z² = (Σ w r)² / Σ w g``, with ``r = y - f`` the residual, ``g`` how much a leaf's
expectation moves per unit of effect (its size for counts and sums; its binomial
variance for rates, whose effects act on the log-odds) and ``w = g / V``, ``V`` the
leaf's noise variance (``noise.py``). z² adds up over parts of a segment that moved
alike and shrinks when the segment also holds leaves that did not move, so the best
segment covers the moved leaves and little else. Among near-equal scores the more
general segment wins: each layer pays ``2 log`` of how many candidates it holds.

Real incidents are uneven (one device loses 25 %, another 10 %), which would make the
score prefer the worst-hit part. So a chosen segment is then widened to its most
general ancestor whose other leaves moved the same way, at least ``RIPPLE`` as far and
clearly beyond noise: the ripple effect of HotSpot/Squeeze, checked rather than assumed.

The search is greedy: take the best segment, absorb its change into the expectation,
score again among segments disjoint from those chosen, and stop when the best one is no
longer surprising (``ALPHA``, corrected for the candidates of its layer), carries less
than ``MIN_RESIDUAL_SHARE`` of the largest cause's move, or ``limit`` is reached. Each
round is a few ``np.bincount`` per combination of dimensions.

All causes move one way: the total's, when the total's own move is beyond chance, else
the way of the first (most surprising) cause. Sizes are compared between causes, not
with the total: across many leaves the total also carries their noise, which can be
larger than a real but local incident, or even go the other way.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.stats import chi2

from agent.attribute.noise import Noise

__all__ = ["ALPHA", "MIN_RESIDUAL_SHARE", "Found", "Lattice", "search"]

ALPHA = 0.01
"""Largest chance probability (corrected for the number of candidates) of a cause."""

MIN_RESIDUAL_SHARE = 0.08
"""A cause must move at least this share of what the largest cause moved (of the gross
deviation when the search is not directed)."""

RIPPLE = 0.4
"""An ancestor replaces a segment when its other leaves moved at least this much as far."""

RIPPLE_Z = 3.0
"""... and their move is this many noise standard deviations from nothing."""

_DENSE_LIMIT = 1 << 22
"""Combinations with more possible cells than this are indexed by their present cells."""


@dataclass(frozen=True)
class Lattice:
    """Leaves encoded once: a cell index per leaf for every combination of dimensions.

    Dimensions with a single value are left out: they cannot tell segments apart.
    """

    dimensions: list[str]
    codes: np.ndarray
    labels: list[np.ndarray]
    cuboids: list[tuple[int, ...]]
    keys: list[np.ndarray]
    sizes: list[int]
    present: list[int]
    """Per combination, how many of its cells hold at least one leaf."""
    text: list[np.ndarray]
    """Per dimension, its values as strings (how segments name them)."""

    @classmethod
    def build(cls, leaves: pd.DataFrame, dimensions: list[str], max_layer: int) -> Lattice:
        factorized = [pd.factorize(leaves[d], use_na_sentinel=False) for d in dimensions]
        varied = [i for i, (_, values) in enumerate(factorized) if len(values) > 1]
        dimensions = [dimensions[i] for i in varied]
        factorized = [factorized[i] for i in varied]
        codes = np.asfortranarray(np.column_stack([c.astype(np.int64) for c, _ in factorized]))
        labels = [np.asarray(values, dtype=object) for _, values in factorized]
        cards = [len(v) for v in labels]
        layers = range(1, min(max_layer, len(dimensions)) + 1)
        cuboids = [c for k in layers for c in combinations(range(len(dimensions)), k)]
        keyed = [_cell_keys(codes, cards, c) for c in cuboids]
        keys = [k for k, _ in keyed]
        present = [int(np.count_nonzero(np.bincount(k))) for k in keys]
        text = [np.array([str(v) for v in values]) for values in labels]
        sizes = [n for _, n in keyed]
        return cls(dimensions, codes, labels, cuboids, keys, sizes, present, text)

    def sums(self, cuboid: int, values: np.ndarray) -> np.ndarray:
        """Per cell of one combination, the sums of each column of ``values``."""
        key, size = self.keys[cuboid], self.sizes[cuboid]
        return np.vstack([np.bincount(key, column, minlength=size) for column in values.T])

    def ancestors(self, cuboid: int) -> list[int]:
        """Combinations made of a proper subset of this one's dimensions."""
        dims = set(self.cuboids[cuboid])
        return [i for i, c in enumerate(self.cuboids) if set(c) < dims]

    def segment(self, cuboid: int, cell: int) -> dict[str, str]:
        """The ``{dimension: value}`` of one cell (values as strings)."""
        leaf = int(np.flatnonzero(self.keys[cuboid] == cell)[0])
        dims = self.cuboids[cuboid]
        return {self.dimensions[d]: str(self.text[d][self.codes[leaf, d]]) for d in dims}

    def mask(self, segment: dict[str, str]) -> np.ndarray:
        """Boolean leaf mask of a segment given as ``{dimension: value}``."""
        inside = np.ones(len(self.codes), dtype=bool)
        for dim, value in segment.items():
            d = self.dimensions.index(dim)
            inside &= np.isin(self.codes[:, d], np.flatnonzero(self.text[d] == value))
        return inside


@dataclass(frozen=True)
class Found:
    """One segment the search chose: its z² against the noise and its corrected p-value."""

    segment: dict[str, str]
    z2: float
    p_value: float
    residual: float


def search(
    lattice: Lattice,
    actual: np.ndarray,
    expected: np.ndarray,
    noise: Noise,
    *,
    limit: int,
    directed: bool = True,
) -> tuple[list[Found], np.ndarray]:
    """Greedy choice of disjoint causes; also the expectation with their changes absorbed.

    ``directed``: only segments moving one way are candidates (the search for rate
    moves; the way is the total's when its move is beyond chance, else the first
    cause's); otherwise both ways count (population moves, whose total is zero by
    construction).
    """
    state = _State(lattice, actual, expected, noise, directed)
    while len(state.chosen) < limit and state.total != 0:
        best = state.best()
        if best is None or not state.accept(*state.generalize(*best)):
            break
    return state.chosen, state.pred


class _State:
    """One greedy search: expectation so far, leaves already explained, causes chosen."""

    def __init__(
        self,
        lattice: Lattice,
        actual: np.ndarray,
        expected: np.ndarray,
        noise: Noise,
        directed: bool,
    ) -> None:
        self.lattice, self.actual, self.noise = lattice, actual, noise
        var, grad = noise.variance, noise.gradient
        with np.errstate(divide="ignore", invalid="ignore"):
            self.weight = np.where(var > 0, grad / var, 0.0)
        info = grad * self.weight
        self.pred = expected.astype(float).copy()
        resid = actual - expected
        self.total = float(resid.sum()) if directed else float(np.abs(resid).sum() / 2)
        self.directed = directed
        self.sign = self._direction(resid) if directed else 0.0
        self.largest = 0.0
        cells = zip(lattice.keys, lattice.sizes, strict=True)
        self.info = [np.bincount(k, info, minlength=n) for k, n in cells]
        self.penalty = _layer_penalties(lattice)
        self.inside = np.zeros(len(actual), dtype=bool)
        self.chosen: list[Found] = []

    def _direction(self, resid: np.ndarray) -> float:
        """The total's sign if its move is surprising, else 0: the first cause decides."""
        variance = self.noise.variance.sum() * self.noise.dispersion(
            resid, np.ones_like(resid, bool)
        )
        z2 = float(_z2(np.array(self.total), np.array(variance)))
        return float(np.sign(self.total)) if z2 > chi2.isf(ALPHA, 1) else 0.0

    def best(self) -> tuple[int, int, float] | None:
        """(cuboid, cell, z² at unit scale) of the best segment still free to choose."""
        resid = self.actual - self.pred
        scale = self.noise.dispersion(resid, ~self.inside)
        scores, taken = resid * self.weight, self.inside.astype(float)
        best, best_score = None, -np.inf
        for i, (key, size) in enumerate(zip(self.lattice.keys, self.lattice.sizes, strict=True)):
            score = np.bincount(key, scores, minlength=size)
            z2 = _z2(score, self.info[i])
            z2[self.info[i] <= 0] = -np.inf  # empty cells, or leaves nothing can move
            if self.sign:
                z2[score * self.sign <= 0] = -np.inf
            if self.chosen:
                z2[np.bincount(key, taken, minlength=size) > 0] = -np.inf
            cell = int(np.argmax(z2))
            penalized = z2[cell] / scale - self.penalty[len(self.lattice.cuboids[i])]
            if penalized > best_score:
                best, best_score = (i, cell, float(z2[cell])), penalized
        return best if best_score > -np.inf else None

    def generalize(self, cuboid: int, cell: int, z2: float) -> tuple[int, int, float]:
        """The most general ancestor whose other leaves moved like the segment (ripple)."""
        members = self.lattice.keys[cuboid] == cell
        leaf = int(np.flatnonzero(members)[0])
        resid = self.actual - self.pred
        move = self._effect(resid, members)
        scale = self.noise.dispersion(resid, ~self.inside)
        options = [(len(self.lattice.cuboids[cuboid]), -z2, cuboid, cell)]
        for ancestor in self.lattice.ancestors(cuboid) if move != 0 else []:
            key = self.lattice.keys[ancestor]
            wider = key == key[leaf]
            if (
                self._moved_alike(resid, wider & ~members, move, scale)
                and not (wider & self.inside).any()
            ):
                z2_wider = self._z(resid, wider) ** 2
                layer = len(self.lattice.cuboids[ancestor])
                options.append((layer, -z2_wider, ancestor, int(key[leaf])))
        _, neg_z2, cuboid, cell = min(options)
        return cuboid, cell, -neg_z2

    def _moved_alike(self, resid: np.ndarray, rest: np.ndarray, move: float, scale: float) -> bool:
        """Whether the leaves in ``rest`` moved like ``move``, far enough and beyond noise."""
        if not rest.any():
            return False
        z = self._z(resid, rest) / np.sqrt(scale)
        return self._effect(resid, rest) / move >= RIPPLE and z * np.sign(move) > RIPPLE_Z

    def _z(self, resid: np.ndarray, where: np.ndarray) -> float:
        """z of a common effect on the leaves in ``where`` (unit noise scale)."""
        score, info = self._score(resid, where)
        return score / np.sqrt(info) if info > 0 else 0.0

    def _effect(self, resid: np.ndarray, where: np.ndarray) -> float:
        """Estimated common effect (log-odds or relative move) of the leaves in ``where``."""
        score, info = self._score(resid, where)
        return score / info if info > 0 else 0.0

    def _score(self, resid: np.ndarray, where: np.ndarray) -> tuple[float, float]:
        """(score, information) of a common effect on the leaves in ``where``."""
        weight = self.weight[where]
        info = (self.noise.gradient[where] * weight).sum()
        return float((resid[where] * weight).sum()), float(info)

    def accept(self, cuboid: int, cell: int, z2: float) -> bool:
        """Add the segment if surprising and large enough; absorb its change."""
        members = self.lattice.keys[cuboid] == cell
        resid = self.actual - self.pred
        residual = float(resid[members].sum())
        z2 /= self.noise.dispersion(resid, ~(self.inside | members))
        layer = len(self.lattice.cuboids[cuboid])
        p_value = min(1.0, float(chi2.sf(z2, 1)) * np.exp(self.penalty[layer] / 2))
        if p_value >= ALPHA or not self._large_enough(residual):
            return False
        if self.directed and not self.sign:
            self.sign = float(np.sign(residual))
        self.largest = max(self.largest, abs(residual))
        segment = self.lattice.segment(cuboid, cell)
        self.chosen.append(Found(segment, z2, p_value, residual))
        self.pred[members] += _spread(residual, self.noise.gradient[members])
        self.inside |= members
        return True

    def _large_enough(self, residual: float) -> bool:
        """At least MIN_RESIDUAL_SHARE of the largest cause (directed), or of the total."""
        reference = max(self.largest, abs(residual)) if self.directed else abs(self.total)
        return abs(residual) >= MIN_RESIDUAL_SHARE * reference


def _z2(score: np.ndarray, info: np.ndarray) -> np.ndarray:
    """Squared z of a common relative move: score² / information (∞ if certain)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(info > 0, score * score / info, np.where(score != 0, np.inf, 0.0))


def _spread(residual: float, gradient: np.ndarray) -> np.ndarray:
    """Share a segment's residual among its leaves as one common effect would."""
    weights = np.abs(gradient)
    if weights.sum() <= 0:
        weights = np.ones_like(gradient)
    return residual * weights / weights.sum()


def _layer_penalties(lattice: Lattice) -> dict[int, float]:
    """2 log(number of present cells) per layer: the price of picking one among them."""
    counts: dict[int, int] = {}
    for present, cuboid in zip(lattice.present, lattice.cuboids, strict=True):
        counts[len(cuboid)] = counts.get(len(cuboid), 0) + present
    return {layer: 2 * float(np.log(max(n, 1))) for layer, n in counts.items()}


def _cell_keys(
    codes: np.ndarray, cards: list[int], cuboid: tuple[int, ...]
) -> tuple[np.ndarray, int]:
    """Leaf → cell index of one combination, dense when small, else compacted."""
    key = np.zeros(len(codes), dtype=np.int64)
    size = 1
    for d in cuboid:
        key = key * cards[d] + codes[:, d]
        size *= cards[d]
    if size <= _DENSE_LIMIT:
        return key, size
    _, compact = np.unique(key, return_inverse=True)
    return compact.astype(np.int64), int(compact.max()) + 1
