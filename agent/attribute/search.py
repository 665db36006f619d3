"""Greedy search of the segment lattice for the fewest, most general segments explaining a change.

Every leaf has an actual value ``y`` and the value expected without incident ``f``
(for a ratio metric: the numerator expected at the leaf's actual denominator, so only
rate moves count). A candidate segment is any cell of any combination of up to
``max_layer`` dimensions (``lattice.py``), scored by the z² of one common effect on its
leaves, measured from the level of the other unexplained leaves (``evidence.py``). Among
near-equal scores the more general segment wins: each layer pays ``2 log`` of how many
candidates it holds.

Real incidents are uneven (one device loses 25 %, another 10 %), which would make the
score prefer the worst-hit part. So a chosen segment is then widened to its most
general ancestor whose other leaves moved the same way, at least ``RIPPLE`` as far and
clearly beyond noise: the ripple effect of HotSpot/Squeeze, checked rather than assumed.

The search is greedy: take the best segment, absorb its change into the expectation,
score again among segments disjoint from those chosen, and stop when the best one is no
longer surprising (``ALPHA``, corrected for the candidates of its layer), carries less
than ``MIN_RESIDUAL_SHARE`` of the largest cause's move, or ``limit`` is reached. A
round costs one pass over the cells, not over the leaves: absorbing a cause updates the
cell sums from its own leaves.

All causes move one way: the total's, when the total's own move is beyond chance, else
the way of the first (most surprising) cause. Sizes are compared between causes, not
with the total: across many leaves the total also carries their noise, which can be
larger than a real but local incident, or even go the other way.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from agent.attribute.evidence import Evidence, chance, layer_penalties, z2
from agent.attribute.lattice import Lattice
from agent.attribute.noise import Noise

__all__ = ["ALPHA", "MIN_RESIDUAL_SHARE", "Found", "search"]

ALPHA = 0.01
"""Largest chance probability (corrected for the number of candidates) of a cause."""

MIN_RESIDUAL_SHARE = 0.08
"""A cause must move at least this share of what the largest cause moved (of the gross
deviation when the search is not directed)."""

RIPPLE = 0.4
"""An ancestor replaces a segment when its other leaves moved at least this much as far."""

RIPPLE_Z = 3.0
"""... and their move is this many noise standard deviations from nothing."""

_CRITICAL = NormalDist().inv_cdf(1 - ALPHA / 2) ** 2
"""The squared z that noise alone exceeds with chance ``ALPHA``."""


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
        self.pred = expected.astype(float).copy()
        resid = actual - expected
        self.total = float(resid.sum()) if directed else float(np.abs(resid).sum() / 2)
        self.directed = directed
        # noise scale over the leaves no cause covers yet (their residuals never change)
        self.scale = noise.dispersion(resid, np.ones(len(resid), dtype=bool))
        self.evidence = Evidence(lattice, resid, noise)
        self.sign = self._direction() if directed else 0.0
        self.largest = 0.0
        self.layer_penalty = layer_penalties(lattice)
        by_layer = np.zeros(max(self.layer_penalty, default=0) + 1)
        by_layer[list(self.layer_penalty)] = list(self.layer_penalty.values())
        self.penalty = by_layer[lattice.layer]
        self.inside = np.zeros(len(actual), dtype=bool)
        self.chosen: list[Found] = []

    def _direction(self) -> float:
        """The total's sign if its move is surprising, else 0: the first cause decides."""
        variance = self.noise.variance.sum() * self.scale
        surprise = float(z2(np.array(self.total), np.array(variance)))
        return float(np.sign(self.total)) if surprise > _CRITICAL else 0.0

    def best(self) -> tuple[int, float] | None:
        """(flat cell, z² at unit scale) of the best segment still free to choose."""
        evidence = self.evidence
        excess, score = evidence.contrast()
        if self.sign:
            score[excess * self.sign <= 0] = -np.inf
        if self.chosen:
            score[evidence.taken > 0] = -np.inf
        penalized = score / self.scale - self.penalty
        cell = int(np.argmax(penalized)) if len(penalized) else 0
        if not len(penalized) or penalized[cell] == -np.inf:
            return None
        return cell, float(score[cell])

    def generalize(self, cell: int, z2_cell: float) -> tuple[int, float]:
        """The most general ancestor whose other leaves moved like the segment (ripple)."""
        lattice, evidence = self.lattice, self.evidence
        cuboid = lattice.cuboid_of(cell)
        leaf = int(np.argmax(lattice.members(cell)))
        move = _ratio(*evidence.part(cell))
        options = [(len(lattice.cuboids[cuboid]), -z2_cell, cell)]
        for ancestor in lattice.ancestors[cuboid] if move != 0 else []:
            wider = lattice.cell(leaf, ancestor)
            if (
                lattice.count[wider] > lattice.count[cell]
                and evidence.taken[wider] == 0
                and self._moved_alike(evidence.part(wider, cell), move)
            ):
                z2_wider = float(evidence.contrast(np.array([wider]))[1][0])
                options.append((len(lattice.cuboids[ancestor]), -z2_wider, wider))
        _, neg_z2, cell = min(options)
        return cell, -neg_z2

    def _moved_alike(self, rest: tuple[float, float], move: float) -> bool:
        """Whether leaves with (score, information) ``rest`` moved like ``move``, beyond noise."""
        score, info = rest
        z = score / np.sqrt(info * self.scale) if info > 0 else 0.0
        return _ratio(score, info) / move >= RIPPLE and z * np.sign(move) > RIPPLE_Z

    def accept(self, cell: int, z2_cell: float) -> bool:
        """Add the segment if surprising and large enough; absorb its change."""
        members = self.lattice.members(cell)
        resid = self.actual - self.pred
        residual = float(resid[members].sum())
        scale = self.noise.dispersion(resid, ~(self.inside | members))
        z2_cell /= scale
        penalty = self.layer_penalty[int(self.lattice.layer[cell])]
        p_value = min(1.0, chance(z2_cell) * np.exp(penalty / 2))
        if p_value >= ALPHA or not self._large_enough(residual):
            return False
        if self.directed and not self.sign:
            self.sign = float(np.sign(residual))
        self.largest = max(self.largest, abs(residual))
        self.chosen.append(Found(self.lattice.segment(cell), z2_cell, p_value, residual))
        change = _spread(residual, self.noise.gradient[members])
        self.pred[members] += change
        self.evidence.absorb(members, resid[members], change)
        self.inside |= members
        self.scale = scale
        return True

    def _large_enough(self, residual: float) -> bool:
        """At least MIN_RESIDUAL_SHARE of the largest cause (directed), or of the total."""
        reference = max(self.largest, abs(residual)) if self.directed else abs(self.total)
        return abs(residual) >= MIN_RESIDUAL_SHARE * reference


def _ratio(num: float, den: float) -> float:
    """``num / den``, 0 when there is no information."""
    return num / den if den > 0 else 0.0


def _spread(residual: float, gradient: np.ndarray) -> np.ndarray:
    """Share a segment's residual among its leaves as one common effect would."""
    weights = np.abs(gradient)
    if weights.sum() <= 0:
        weights = np.ones_like(gradient)
    return residual * weights / weights.sum()
