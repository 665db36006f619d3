"""Incidents planted in a generated world, and their ground truth for ``bench.power``.

Each incident bends the world's expectations (``bench._power_world``) from its onset
to its end and records what a perfect detector could know of it:

* ``visible``: the first day the metric can show it (its onset, for the metrics here);
* ``until``: the last day an alert of the metric still counts as finding it;
* ``strength``: the move summed over the days it lasts, in standard deviations of that
  sum's noise (sampling noise of the segment's denominator plus the world's
  day-to-day rate noise): ``sum(effect_d) / sqrt(sum(sigma_d**2))``. A constant move of
  ``k`` daily sigmas for ``n`` days has strength ``k * sqrt(n)``;
* ``early``: the same over its first 4 days from ``visible`` (what "alerted within 3
  periods" can use).

Spikes (1-2 days, total) are incidents that should *not* page; their strength is the
per-day size in daily sigmas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from bench._power_world import World

__all__ = [
    "METRICS",
    "Incident",
    "Planter",
    "plant_family",
    "plant_retailer",
    "strength_of",
    "value_sigma",
]

METRICS = ("conversion", "average_order_value", "nps")
GRACE = 7
"""Days after an incident's end in which an alert still counts as finding it."""
EARLY = 4
"""Days from ``visible`` counted by ``early``: alerted within 3 periods can use only them."""
MIXES = {
    "conversion": (("segment_drop", 0.55), ("level_shift", 0.2), ("spike", 0.25)),
    "average_order_value": (("segment_drop", 0.35), ("level_shift", 0.35), ("spike", 0.3)),
    "nps": (("score_drop", 0.55), ("level_shift", 0.2), ("spike", 0.25)),
}


@dataclass(frozen=True)
class Incident:
    id: str
    cls: str
    metric: str
    segment: dict[str, str]
    onset: date
    end: date
    visible: date
    until: date
    share: float
    """The segment's share of the metric's denominator (1.0: the total)."""
    effect: float
    """Relative move of the segment's value (NPS: points)."""
    strength: float
    early: float
    peak: float
    """The largest one-day move in daily sigmas (how loud a spike is)."""
    direction: str = "down"
    what: str = field(default="")


def strength_of(effect: np.ndarray, sigma: np.ndarray) -> tuple[float, float, float]:
    """Strength, early strength and peak of a move of ``effect`` per day (see above)."""
    total = float(effect.sum() / np.sqrt((sigma**2).sum()))
    early = float(effect[:EARLY].sum() / np.sqrt((sigma[:EARLY] ** 2).sum()))
    return total, early, float((effect / sigma).max())


def value_sigma(
    world: World, metric: str, mask: np.ndarray, days: slice
) -> tuple[np.ndarray, np.ndarray]:
    """Expected value and noise sigma per day of ``metric`` over the leaves (or, for
    NPS, touchpoints) in ``mask``."""
    if metric == "nps":
        mix = world.nps_mix[days][:, mask, :]
        weight = world.tp_weights[mask] / world.tp_weights[mask].sum()
        p = (mix * weight[None, :, None]).sum(axis=1)  # (d, 3)
        mean = 100 * (p[:, 2] - p[:, 0])
        var = 1e4 * (p[:, 2] + p[:, 0]) - mean**2
        n = world.responses[days] * world.tp_weights[mask].sum()
        return mean, np.sqrt(var / n)
    vol, conv = world.volume[days][:, mask], world.conversion[days][:, mask]
    sessions, orders = vol.sum(axis=1), (vol * conv).sum(axis=1)
    if metric == "conversion":
        p = orders / sessions
        return p, np.sqrt(p * (1 - p) / sessions + (world.noise * p) ** 2)
    m = (vol * conv * world.order_value[days][:, mask]).sum(axis=1) / orders
    return m, np.sqrt(m**2 / (world.order_shape * orders) + (world.noise * m) ** 2)


def _share(world: World, metric: str, mask: np.ndarray) -> float:
    if metric == "nps":
        return float(world.tp_weights[mask].sum())
    weight = world.volume.sum(axis=0)
    if metric == "average_order_value":
        weight = (world.volume * world.conversion).sum(axis=0)
    return float(weight[mask].sum() / weight.sum())


def _segment(world: World, rng: np.random.Generator, lo: float, hi: float) -> dict[str, str]:
    """A 1- or 2-dimension segment whose share of sessions is near a target drawn
    log-uniformly from ``lo``..``hi`` (the closest of 200 random segments)."""
    target = rng.uniform(np.log(lo), np.log(hi))
    best: tuple[float, dict[str, str]] = (np.inf, {})
    for _ in range(200):
        k = 2 if len(world.dims) > 1 and rng.random() < 0.5 else 1
        dims = rng.choice(len(world.dims), k, replace=False)
        seg = {world.dims[i].column: str(rng.choice(world.dims[i].values)) for i in dims}
        share = _share(world, "conversion", world.segment_mask(seg))
        miss = abs(np.log(max(share, 1e-9)) - target)
        best = min(best, (miss, seg), key=lambda t: t[0])
    return best[1]


class Planter:
    """Bends ``world`` for one incident at a time and records its ground truth."""

    def __init__(self, world: World, rng: np.random.Generator) -> None:
        self.world, self.rng = world, rng
        self.incidents: list[Incident] = []

    def mask(self, metric: str, segment: dict[str, str]) -> np.ndarray:
        w = self.world
        if metric == "nps":
            tp = segment.get(w.names["touchpoint"])
            return np.array([tp is None or t == tp for t in w.touchpoints])
        return w.segment_mask(segment)

    def plant(
        self,
        cls: str,
        metric: str,
        segment: dict[str, str],
        onset: int,
        days: int,
        size: float,
        *,
        in_sigmas: bool = False,
        what: str = "",
    ) -> Incident:
        """Plant ``cls`` on ``metric`` in ``segment`` for ``days`` from day ``onset``:
        the value falls by ``size`` (relative; NPS: points), or by ``size`` daily noise
        sigmas of the segment (``in_sigmas``)."""
        w = self.world
        span = slice(onset, min(onset + days, w.days))
        mask = self.mask(metric, segment)
        before, sigma = value_sigma(w, metric, mask, span)
        if in_sigmas:
            size *= float(np.median(sigma) / (1 if metric == "nps" else np.median(before)))
        self._bend(metric, mask, span, size)
        after, _ = value_sigma(w, metric, mask, span)
        strength, early, peak = strength_of(np.abs(before - after), sigma)
        end = w.day(span.stop - 1)
        grace = 2 if cls == "spike" else GRACE
        incident = Incident(
            id=f"{w.seed}-{len(self.incidents)}",
            cls=cls,
            metric=metric,
            segment=segment,
            onset=w.day(onset),
            end=end,
            visible=w.day(onset),
            until=min(end + timedelta(days=grace), w.end),
            share=_share(w, metric, mask),
            effect=size,
            strength=strength,
            early=early,
            peak=peak,
            what=what or cls,
        )
        self.incidents.append(incident)
        return incident

    def _bend(self, metric: str, mask: np.ndarray, span: slice, size: float) -> None:
        w = self.world
        if metric == "conversion":
            w.conversion[span, mask] *= 1 - size
        elif metric == "average_order_value":
            w.order_value[span, mask] *= 1 - size
        else:  # NPS: promoters become detractors, then passives do
            mix = w.nps_mix[span][:, mask, :].copy()
            first = np.minimum(mix[..., 2], size / 200)
            rest = np.minimum(mix[..., 1], (size - 200 * first) / 100)
            mix[..., 2] -= first
            mix[..., 1] -= rest
            mix[..., 0] += first + rest
            w.nps_mix[span.start : span.stop, mask, :] = mix

    def draw(self, cls: str, metric: str, onset: int) -> Incident:
        """A random incident of ``cls`` on ``metric`` from day ``onset``."""
        rng, w = self.rng, self.world
        days = int(rng.integers(1, 3)) if cls == "spike" else int(rng.integers(2, 31))
        if cls == "segment_drop":
            segment = _segment(w, rng, 0.01, 0.30)
            hi = 0.8 if metric == "conversion" else 0.4
            size = np.exp(rng.uniform(np.log(0.1), np.log(hi)))  # log-uniform 10%..hi
            return self.plant(cls, metric, segment, onset, days, float(size))
        if cls == "score_drop":
            segment = {w.names["touchpoint"]: str(rng.choice(w.touchpoints))}
            return self.plant(cls, metric, segment, onset, days, float(rng.uniform(10, 75)))
        sigmas = rng.uniform(2, 8) if cls == "spike" else rng.uniform(0.5, 3)
        return self.plant(cls, metric, {}, onset, days, float(sigmas), in_sigmas=True)


def plant_family(world: World, rng: np.random.Generator) -> list[Incident]:
    """Incidents one after another on each metric, from the first judged day to the
    last, with 5-25 clean days between one's last counted day and the next onset."""
    planter = Planter(world, rng)
    first = (world.eval_start - world.start).days
    for metric in METRICS:
        classes = [cls for cls, _ in MIXES[metric]]
        weights = np.array([weight for _, weight in MIXES[metric]])
        day = first + int(rng.integers(3, 20))
        while day < world.days - 3:
            cls = str(rng.choice(classes, p=weights))
            incident = planter.draw(cls, metric, day)
            day = (incident.until - world.start).days + int(rng.integers(5, 26))
    return planter.incidents


def plant_retailer(world: World, rng: np.random.Generator) -> list[Incident]:
    """The issue's held-out incidents: a checkout bug (conversion -80% for 9 days in a
    platform x city segment of ~4% of sessions), NPS of one touchpoint from +15 to -60
    for 20 days, AOV -6% for 14 days, and two more segment drops; one per fifth of the
    judged range, in a random order."""
    planter = Planter(world, rng)
    w = world
    touchpoint = str(rng.choice(w.touchpoints))
    w.nps_mix[:, w.touchpoints.index(touchpoint), :] = [0.25, 0.35, 0.40]  # NPS +15
    grade = _nearest(w, ("grade",), rng.uniform(0.1, 0.25))
    source = _nearest(w, ("traffic_source",), rng.uniform(0.1, 0.25))
    plans = [
        (
            "segment_drop",
            "conversion",
            _nearest(w, ("platform", "city"), 0.04),
            9,
            0.8,
            "checkout bug",
        ),
        ("score_drop", "nps", {w.names["touchpoint"]: touchpoint}, 20, 75.0, "NPS collapse"),
        ("level_shift", "average_order_value", {}, 14, 0.06, "AOV -6%"),
        ("segment_drop", "average_order_value", grade, 10, 0.25, "grade AOV -25%"),
        ("segment_drop", "conversion", source, 6, 0.3, "landing page -30%"),
    ]
    first = (w.eval_start - w.start).days + 5  # a few judged days before the first
    slot = (w.days - first) // len(plans)
    for i, plan in enumerate(rng.permutation(len(plans))):
        cls, metric, seg, days, size, what = plans[plan]
        onset = first + i * slot + int(rng.integers(0, max(slot - days - GRACE, 1)))
        planter.plant(cls, metric, seg, onset, days, size, what=what)
    return planter.incidents


def _nearest(world: World, concepts: tuple[str, ...], target: float) -> dict[str, str]:
    """The segment over ``concepts`` (one value each) whose share of sessions is
    closest to ``target``."""
    dims = [d for d in world.dims if d.concept in concepts]
    grids = np.meshgrid(*[np.arange(len(d.values)) for d in dims], indexing="ij")
    segments = [
        {d.column: d.values[int(g.ravel()[k])] for d, g in zip(dims, grids, strict=True)}
        for k in range(grids[0].size)
    ]
    return min(
        segments, key=lambda seg: abs(_share(world, "conversion", world.segment_mask(seg)) - target)
    )
