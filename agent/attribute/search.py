"""Greedy search of the segment lattice for the fewest, most general segments explaining a change.

Every leaf has an actual value ``y`` and the value expected without incident ``f``
(for a ratio metric: the numerator expected at the leaf's actual denominator, so only
rate moves count). A candidate segment is any cell of any combination of up to ``depth``
dimensions (``lattice.py``; the deep ones screened by ``depth.py``), scored by the z² of
one common effect on its leaves, measured from the level of the other unexplained leaves
(``evidence.py``).

The choice is a description-length criterion. z² is twice the log-likelihood ratio of
"the segment moved by one common effect" against "it did not"; naming a segment costs
twice the log of how many candidates its layer holds (the length of its name). Each
round takes the segment with the largest gain net of its cost, so a more general
segment, cheaper to name, wins whenever it explains as much. A segment is a cause when
its net gain is beyond chance: its chance probability, times the number of candidates
of its layer, is below ``ALPHA``.

Real incidents are uneven (one device loses 25 %, another 10 %), which would make the
score prefer the worst-hit part. So a chosen segment is then widened to its most
general ancestor whose other leaves moved the same way, at least ``RIPPLE`` as far and
clearly beyond noise: the ripple effect of HotSpot/Squeeze, checked rather than assumed.

The chosen segment's change is then absorbed into the expectation and every segment is
scored again on what is left in all its leaves: a second cause in another dimension
(``c=c8`` after ``d=d7``) is judged whole, on the leaves both share as well, rather than
split into intersections with the first. Segments holding a whole chosen one, or whose
leaves are all explained already, are no longer candidates. A round costs one pass over
the cells, not over the leaves: absorbing a cause updates the cell sums from its own
leaves.

A surprising move is named only when it is material: at least ``MIN_RESIDUAL_SHARE`` of
the largest named cause's move, or ``RICH_SHARE`` of it from ``RICH_LEAVES`` leaves on,
where the noise model is fitted on enough leaves to trust a small segment's evidence.
A move too small to name is absorbed all the same, so that no segment holding it is
named for its sake; with many leaves the search then looks further, with few it stops.
It also stops when the best segment is no longer surprising or ``limit`` causes are
named.

All causes move one way: the total's, when the total's own move is beyond chance, else
the way of the first (most surprising) cause. Sizes are compared between causes, not
with the total: across many leaves the total also carries their noise, which can be
larger than a real but local incident, or even go the other way.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from agent.attribute.depth import MAX_DEPTH, deepen
from agent.attribute.evidence import Evidence, Leaves, chance, layer_penalties, z2
from agent.attribute.lattice import Lattice
from agent.attribute.noise import RICH_LEAVES, Noise

__all__ = ["ALPHA", "MIN_RESIDUAL_SHARE", "RICH_SHARE", "Found", "search"]

ALPHA = 0.01
"""Largest chance probability (corrected for the number of candidates) of a cause."""

MIN_RESIDUAL_SHARE = 0.08
"""A cause must move at least this share of what the largest cause moved (of the gross
deviation when the search is not directed)."""

RICH_SHARE = 0.02
"""... or this share, from ``RICH_LEAVES`` leaves on."""

RIPPLE = 0.4
"""An ancestor replaces a segment when its other leaves moved at least this much as far."""

RIPPLE_Z = 3.0
"""... and their move is this many noise standard deviations from nothing."""

SCALE_FLOOR = 0.5
"""The noise scale measured on the leaves left free never drops below this share of the
scale measured on all leaves: in count data many leaves may not move at all, and their
median would make any move look infinitely surprising."""

TRIES = 3
"""The search looks at up to this many surprising segments per cause it may name."""

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
    depth: int = MAX_DEPTH,
) -> tuple[list[Found], np.ndarray, int]:
    """Greedy choice of causes; also the expectation with their changes absorbed, and the
    number of segments scored.

    ``directed``: only segments moving one way are candidates (the search for rate
    moves; the way is the total's when its move is beyond chance, else the first
    cause's); otherwise both ways count (population moves, whose total is zero by
    construction). Combinations of up to ``depth`` dimensions are candidates.
    """
    state = _State(lattice, actual, expected, noise, directed, depth)
    for _ in range(TRIES * limit):
        best = state.best() if len(state.chosen) < limit and state.total != 0 else None
        if best is None or not state.accept(*state.generalize(*best)):
            break
    return state.chosen, state.pred, state.scored


class _State:
    """One greedy search: expectation so far, leaves already explained, causes chosen."""

    def __init__(
        self,
        lattice: Lattice,
        actual: np.ndarray,
        expected: np.ndarray,
        noise: Noise,
        directed: bool,
        depth: int,
    ) -> None:
        self.actual, self.noise, self.directed = actual, noise, directed
        self.pred = expected.astype(float).copy()
        resid = actual - expected
        self.total = float(resid.sum()) if directed else float(np.abs(resid).sum() / 2)
        self.rich = len(actual) >= RICH_LEAVES
        # noise scale over the leaves no cause covers yet (their residuals never change)
        self.scale = noise.dispersion(resid, np.ones(len(resid), dtype=bool))
        self.floor = SCALE_FLOOR * self.scale
        leaves = Leaves(resid, noise)
        self.lattice = deepen(lattice, leaves.excess(), leaves.info * self.scale, ALPHA, depth)
        self.scored = int(self.lattice.possible.sum())
        self.evidence = Evidence(self.lattice, leaves)
        self.sign = self._direction() if directed else 0.0
        self.largest = 0.0
        self.layer_penalty = layer_penalties(self.lattice)
        by_layer = np.zeros(max(self.layer_penalty, default=0) + 1)
        by_layer[list(self.layer_penalty)] = list(self.layer_penalty.values())
        self.penalty = by_layer[self.lattice.layer]
        cuboids = [set(c) for c in self.lattice.cuboids]
        self.ancestors = [[j for j, a in enumerate(cuboids) if a < c] for c in cuboids]
        self.inside = np.zeros(len(actual), dtype=bool)
        self.blocked = np.zeros(self.lattice.size, dtype=bool)
        self.chosen: list[Found] = []

    def _direction(self) -> float:
        """The total's sign if its move is surprising, else 0: the first cause decides."""
        variance = self.noise.variance.sum() * self.scale
        surprise = float(z2(np.array(self.total), np.array(variance)))
        return float(np.sign(self.total)) if surprise > _CRITICAL else 0.0

    def _closed(self) -> np.ndarray:
        """Cells no longer candidates: a chosen cause, one holding a whole chosen cause,
        or one whose leaves causes all explain already."""
        evidence = self.evidence
        closed = self.blocked | (evidence.taken >= self.lattice.count)
        if self.chosen:
            part = (evidence.taken > 0) & ~closed
            score = evidence.score[part] - evidence.taken_score[part]
            info = evidence.info[part] - evidence.taken_info[part]
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(info > 0, score / np.sqrt(info * self.scale), 0.0)
            way = self.sign if self.sign else 1.0
            weak = (z * way <= RIPPLE_Z) if self.sign else (np.abs(z) <= RIPPLE_Z)
            closed[np.flatnonzero(part)[weak]] = True
        return closed

    def best(self) -> tuple[int, float] | None:
        """(flat cell, z² at unit scale) of the best segment still free to choose."""
        excess, score = self.evidence.contrast()
        if self.sign:
            score[excess * self.sign <= 0] = -np.inf
        score[self._closed()] = -np.inf
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
        closed = self._closed()
        for ancestor in self.ancestors[cuboid] if move != 0 else []:
            wider = lattice.cell(leaf, ancestor)
            if (
                wider is not None
                and lattice.count[wider] > lattice.count[cell]
                and not closed[wider]
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
        """Absorb the segment's change if it is surprising, and name it if it is also
        material; False when the search is over (nothing surprising is left, or with few
        leaves, the move is too small to name)."""
        members = self.lattice.members(cell)
        resid = self.actual - self.pred
        residual = float(resid[members].sum())
        scale = max(self.noise.dispersion(resid, ~(self.inside | members)), self.floor)
        z2_cell /= scale
        penalty = self.layer_penalty[int(self.lattice.layer[cell])]
        p_value = min(1.0, chance(z2_cell) * np.exp(penalty / 2))
        material = self._material(residual)
        if p_value >= ALPHA or not (material or self.rich):
            return False
        if self.directed and not self.sign:
            self.sign = float(np.sign(residual))
        if material:
            self.largest = max(self.largest, abs(residual))
            self.chosen.append(Found(self.lattice.segment(cell), z2_cell, p_value, residual))
        change = _spread(residual, self.noise.gradient[members])
        self.pred[members] += change
        held = self.evidence.absorb(members, members & ~self.inside, resid, change)
        self.blocked |= held >= self.lattice.count[cell]
        self.inside |= members
        self.scale = scale
        return True

    def _material(self, residual: float) -> bool:
        """At least the named share of the largest cause (directed), or of the total."""
        reference = max(self.largest, abs(residual)) if self.directed else abs(self.total)
        share = RICH_SHARE if self.rich else MIN_RESIDUAL_SHARE
        return abs(residual) >= share * reference


def _ratio(num: float, den: float) -> float:
    """``num / den``, 0 when there is no information."""
    return num / den if den > 0 else 0.0


def _spread(residual: float, gradient: np.ndarray) -> np.ndarray:
    """Share a segment's residual among its leaves as one common effect would."""
    weights = np.abs(gradient)
    if weights.sum() <= 0:
        weights = np.ones_like(gradient)
    spread: np.ndarray = residual * weights / weights.sum()
    return spread
