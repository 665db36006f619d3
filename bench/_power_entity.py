"""Incidents on entity metrics (churn, revisit rate, premium share) for ``bench.power``.

They remove visits (``bench._power_customers``), so their effect on a metric is
measured, not assumed: the metric is computed per day with and without the removed
visits (the same draws), and the difference is the effect. Churn's daily values share
most of their customers for a window's length, so the noise of a sum of them grows
with the window: its variance is ``sum_jk sd_j sd_k (1 - |j-k| / window)+``.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from bench._power_customers import CUSTOMER_LEVEL, Customers, Visits, series
from bench._power_incidents import EARLY, GRACE, Incident
from bench._power_world import POOL, World

__all__ = ["ENTITY_METRICS", "correlated_strength", "plant_entity", "premium_grade"]

ENTITY_METRICS = {
    "churn": ("churn", 14, "churn_rise"),
    "revisit_rate": ("returning", 7, "revisit_drop"),
    "premium_share": ("mix", 0, "mix_shift"),
}
"""metric -> (kind, window or lookback in days, the incident class planted on it)."""
SIZES = {"churn": (0.05, 0.5), "revisit_rate": (0.1, 0.8), "premium_share": (0.1, 0.8)}
"""Log-uniform range of the share of a segment's customers who leave (churn), or of its
visits (premium customers' for premium share) that stop while the incident lasts."""
SHOWS = 0.1
"""Churn becomes visible when its effect first reaches this share of its peak."""
AFTER = {"churn": 2, "returning": 1, "mix": 0}
"""Windows after an incident's end in which a metric still shows it: a lapsed customer
counts in churn for two windows, a missed visit in revisits for one lookback."""


def premium_grade(world: World) -> tuple[str, str] | None:
    """(column, value) of the world's top grade, the category of premium share."""
    grade = next((d for d in world.dims if d.concept == "grade"), None)
    if grade is None:
        return None
    order = [v for v in POOL["grade"][1] if v in grade.values and v != "new"]
    return grade.column, order[-1]


class _EntityPlanter:
    def __init__(
        self, world: World, customers: Customers, visits: Visits, rng: np.random.Generator
    ) -> None:
        self.world, self.customers, self.visits, self.rng = world, customers, visits, rng

    def member(self, segment: dict[str, str]) -> np.ndarray:
        mask = np.ones(len(self.customers.rate), dtype=bool)
        for i, d in enumerate(self.world.dims):
            if d.column in segment:
                mask &= self.customers.attrs[:, i] == d.values.index(segment[d.column])
        return mask

    def category(self) -> np.ndarray:
        column, value = premium_grade(self.world) or ("", "")
        return self.member({column: value})

    def segment(self, lo: float, hi: float, *, grade: bool = True) -> dict[str, str]:
        """One customer-level dimension value (a grade only if ``grade``) whose share of
        customers is the closest to a log-uniform target in ``lo``..``hi``; {} if none."""
        target = self.rng.uniform(np.log(lo), np.log(hi))
        options = [
            {d.column: v}
            for d in self.world.dims
            if d.concept in CUSTOMER_LEVEL and (grade or d.concept != "grade")
            for v in d.values
        ]
        if not options:
            return {}
        share = [self.member(s).mean() for s in options]
        best = np.argmin([abs(np.log(max(s, 1e-9)) - target) for s in share])
        return options[int(best)]

    def bend(self, cls: str, members: np.ndarray, onset: int, days: int, size: float) -> None:
        v, rng = self.visits, self.rng
        if cls == "churn_rise":
            c = self.customers
            here = members & (c.signup <= onset) & (c.lapse > onset)
            leaving = here & (rng.random(len(here)) < size)
            leave_on = onset + rng.uniform(0, days, len(here))
            v.kept &= ~(leaving[v.customer] & (v.day >= leave_on[v.customer]))
            return
        during = (v.day >= onset) & (v.day < onset + days) & members[v.customer]
        v.kept &= ~(during & (rng.random(len(during)) < size))

    def plant(
        self, metric: str, segment: dict[str, str], onset: int, days: int, size: float, key: str
    ) -> Incident:
        kind, window, cls = ENTITY_METRICS[metric]
        w, n = self.world, self.world.days
        member = self.member(segment)
        category = self.category() if kind == "mix" else None
        before = self.visits.kept.copy()
        self.bend(cls, member & category if category is not None else member, onset, days, size)

        def values(kept: np.ndarray, who: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return series(self.visits, kept, who, kind, days=n, window=window, category=category)

        (num0, den0), (num1, den1) = values(before, member), values(self.visits.kept, member)
        p0 = num0 / np.maximum(den0, 1)
        effect = np.abs(num1 / np.maximum(den1, 1) - p0)
        sd = np.sqrt(np.maximum(p0 * (1 - p0), 1e-12) / np.maximum(den0, 1))
        visible = onset
        if kind == "churn":  # from the first day a tenth of its peak shows (a window later)
            visible = onset + int(np.argmax(effect[onset:] >= SHOWS * effect[onset:].max()))
        last = min(onset + days - 1 + AFTER[kind] * window, n - 1)  # its customers' reach
        span = slice(visible, max(last, visible) + 1)
        strength, early, peak = correlated_strength(
            effect[span], sd[span], window if kind == "churn" else 1
        )
        den_all = values(before, np.ones_like(member))[1]
        share = den0[onset:].sum() / max(den_all[onset:].sum(), 1)
        return Incident(
            id=key,
            cls=cls,
            metric=metric,
            segment=segment,
            onset=w.day(onset),
            end=w.day(min(onset + days, n) - 1),
            visible=w.day(visible),
            until=min(w.day(max(last, visible)) + timedelta(days=GRACE), w.end),
            share=float(share),
            effect=size,
            strength=strength,
            early=early,
            peak=peak,
            direction="up" if kind == "churn" else "down",
            what=cls,
        )


def correlated_strength(
    effect: np.ndarray, sd: np.ndarray, reach: int
) -> tuple[float, float, float]:
    """Strength, early strength and peak of ``effect`` under noise ``sd`` whose days are
    correlated over ``reach`` days (triangular)."""

    def z(e: np.ndarray, s: np.ndarray) -> float:
        lag = np.abs(np.subtract.outer(np.arange(len(s)), np.arange(len(s))))
        rho = np.clip(1 - lag / reach, 0, None)
        return float(e.sum() / np.sqrt(max(s @ rho @ s, 1e-24)))

    return z(effect, sd), z(effect[:EARLY], sd[:EARLY]), float((effect / sd).max())


def plant_entity(
    world: World,
    customers: Customers,
    visits: Visits,
    rng: np.random.Generator,
    metrics: list[str],
) -> list[Incident]:
    """Incidents one after another on each entity metric, from the first judged day."""
    planter = _EntityPlanter(world, customers, visits, rng)
    out: list[Incident] = []
    first = (world.eval_start - world.start).days
    for metric in metrics:
        day = first + int(rng.integers(3, 20))
        while day < world.days - 20:
            if metric != "premium_share":
                segment = planter.segment(0.01, 0.30)
            else:  # the top grade's share: everywhere, or in a segment of another dimension
                segment = planter.segment(0.1, 0.3, grade=False) if rng.random() < 0.5 else {}
            lo, hi = SIZES[metric]
            size = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
            days = int(rng.integers(2, 31))
            incident = planter.plant(metric, segment, day, days, size, f"{world.seed}-e{len(out)}")
            out.append(incident)
            day = (incident.until - world.start).days + int(rng.integers(5, 26))
    return out
