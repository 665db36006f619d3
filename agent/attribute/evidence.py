"""How strongly each segment of the lattice moved: the score test of one common effect.

Every leaf has a residual ``r = y - f`` (actual minus expected), a gradient ``g`` (how
much its expectation moves per unit of a common effect on a segment: its size for
counts and sums, its binomial variance for rates, whose effects act on the log-odds)
and a noise variance ``V`` (``noise.py``). With ``w = g / V``, a segment's evidence is

    z² = (Σ w r)² / Σ w g    (score² / information).

z² adds up over parts of a segment that moved alike and shrinks when the segment also
holds leaves that did not move, so the best segment covers the moved leaves and little
else. Both sums are kept per cell of every cuboid (``lattice.py``). When the search
absorbs a cause's change into the expectation, only the score of the cells holding its
leaves changes: it is updated from those leaves alone, never recomputed from all.

From ``RICH_LEAVES`` leaves on, a segment's effect is measured from the level of the
other leaves no cause explains yet, not from zero (a two-sample test). A move every
segment shares is the total's, not any segment's: a baseline lagging a trend, or the
weights themselves (they depend on the expectation, so a noisy forecast biases every
weighted score a little the same way, about σ²/2 per leaf). Across thousands of leaves
that shared move makes large segments look significant; with fewer, it is too small to
matter, and the others' level would be too uncertain to measure from.
"""

from __future__ import annotations

import math

import numpy as np

from agent.attribute.lattice import Lattice
from agent.attribute.noise import RICH_LEAVES, Noise

__all__ = ["Evidence", "Leaves", "chance", "layer_penalties", "z2"]


class Leaves:
    """Per leaf: the weight ``w = g / V``, score ``w r`` and information ``w g``."""

    def __init__(self, resid: np.ndarray, noise: Noise) -> None:
        self.measured = len(resid) >= RICH_LEAVES
        var = noise.variance
        with np.errstate(divide="ignore", invalid="ignore"):
            self.weight = np.where(var > 0, noise.gradient / var, 0.0)
        self.gradient = noise.gradient
        self.score = resid * self.weight
        self.info = noise.gradient * self.weight

    def excess(self) -> np.ndarray:
        """Each leaf's score over the common level of all leaves (0 when not measured)."""
        total = float(self.info.sum())
        level = float(self.score.sum()) / total if self.measured and total > 0 else 0.0
        return self.score - self.info * level


class Evidence:
    """Per flat cell: score ``Σ w r``, information ``Σ w g``, and the same over the leaves
    causes already explain (``taken`` counts them)."""

    def __init__(self, lattice: Lattice, leaves: Leaves) -> None:
        self.lattice = lattice
        self.measured = leaves.measured
        self.weight, self.gradient = leaves.weight, leaves.gradient
        self.score, self.info = lattice.per_cells([leaves.score, leaves.info])
        self.taken = np.zeros(lattice.size, dtype=np.int64)
        self.taken_score = np.zeros(lattice.size)
        self.taken_info = np.zeros(lattice.size)
        # (score, information) of the leaves no cause explains yet
        self.free = (float(leaves.score.sum()), float(leaves.info.sum()))

    def contrast(self, cells: np.ndarray | slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """(excess score, z²) of cells over the level of the other free leaves, at unit scale.

        The excess is a cell's score less what the other free leaves' common effect gives
        it; z² tests its effect against theirs. Against no move when the level is not
        measured, or no other free leaf is left. -∞ where nothing can move.
        """
        score, info = self.score[cells], self.info[cells]
        free_score, free_info = self.free
        rest_score = free_score - (score - self.taken_score[cells])
        rest_info = free_info - (info - self.taken_info[cells])
        level = self.measured & (rest_info > 1e-9 * free_info)
        with np.errstate(divide="ignore", invalid="ignore"):
            excess = np.where(level, score - info * (rest_score / rest_info), score)
            out = z2(excess, info) * np.where(level, rest_info / free_info, 1.0)
        return excess, np.where(info > 0, out, -np.inf)

    def absorb(
        self, members: np.ndarray, fresh: np.ndarray, resid: np.ndarray, change: np.ndarray
    ) -> np.ndarray:
        """The leaves of ``members`` are explained: their expectation rose by ``change``
        (one value per member). ``fresh`` marks those no earlier cause explained;
        ``resid`` holds every leaf's residual before the change. Returns how many of the
        members each cell holds."""
        delta = np.zeros(len(self.weight))
        delta[members] = change * self.weight[members]
        now = np.where(fresh, self.weight * resid - delta, -delta)
        free_score, free_info = self.free
        self.free = (
            free_score - float((self.weight * resid)[fresh].sum()),
            free_info - float((self.gradient * self.weight)[fresh].sum()),
        )
        info = np.where(fresh, self.gradient * self.weight, 0.0)
        held, delta, now, taken, info = self.lattice.per_cells(
            [None, delta, now, fresh.astype(float), info], members
        )
        self.score -= delta
        self.taken += np.rint(taken).astype(np.int64)
        self.taken_score += now
        self.taken_info += info
        return held

    def part(self, cell: int, without: int | None = None) -> tuple[float, float]:
        """(score, information) of a cell, less the leaves of a cell nested in it."""
        score, info = float(self.score[cell]), float(self.info[cell])
        if without is None:
            return score, info
        score -= float(self.score[without])
        info -= float(self.info[without])
        if info <= 1e-9 * float(self.info[cell]):  # nothing left but rounding
            info = 0.0
        return score, info


def z2(score: np.ndarray, info: np.ndarray) -> np.ndarray:
    """Squared z of a common relative move: score² / information (∞ if certain)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(info > 0, score * score / info, np.where(score != 0, np.inf, 0.0))


def chance(z2: float) -> float:
    """P(χ²₁ > z2): how often noise alone gives a squared z this large. ``erfc`` of
    the z itself, exact far into the tail where ``1 - cdf`` would round to 0."""
    return math.erfc(math.sqrt(z2 / 2))


def layer_penalties(lattice: Lattice) -> dict[int, float]:
    """2 log(number of cells) per layer: the price of picking one among them.

    The cells counted are those holding a leaf, or for a deep cuboid that holds only
    some of its cells, how many it may hold (``Lattice.possible``).
    """
    counts: dict[int, int] = {}
    for present, cuboid in zip(lattice.possible, lattice.cuboids, strict=True):
        counts[len(cuboid)] = counts.get(len(cuboid), 0) + int(present)
    return {layer: 2 * float(np.log(max(n, 1))) for layer, n in counts.items()}
