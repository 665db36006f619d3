"""The shape of one generated warehouse for ``bench.power``: its schema and its normal days.

A world is drawn from a seed: which dimensions the sessions have (2-4 of platform,
city, grade, traffic source; random column names and cardinalities), how sessions
spread over them, the daily volume (weekly seasonality, holidays of the country,
growth), and per session leaf its conversion rate and order value; survey answers per
touchpoint for NPS. Everything here is an *expectation*; ``bench._power_gen`` draws
the counts, after ``bench._power_incidents`` has bent the expectations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import holidays
import numpy as np

__all__ = ["COUNTRIES", "Dim", "World", "draw_world", "retailer_world"]

COUNTRIES = {"KR": "Asia/Seoul", "US": "America/New_York", "JP": "Asia/Tokyo"}
HISTORY = 120
"""Days before the first judged one (cx-agent's default ``history``)."""
# name choices per concept, then the values a dimension draws from
POOL: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "platform": (
        ("platform", "device_type", "os_family"),
        ("ios", "android", "web", "mweb", "tablet", "kiosk"),
    ),
    "city": (
        ("city", "metro", "region"),
        tuple(f"city_{i:02d}" for i in range(1, 31)),
    ),
    "grade": (
        ("grade", "tier", "membership"),
        ("basic", "silver", "gold", "platinum", "vip", "new"),
    ),
    "traffic_source": (
        ("traffic_source", "acquisition", "utm_source"),
        ("organic", "paid_search", "social", "email", "direct", "affiliate", "push", "referral"),
    ),
}
CARDINALITY = {"platform": (2, 6), "city": (4, 30), "grade": (3, 6), "traffic_source": (3, 8)}
TOUCHPOINTS = ("call_center", "chat", "store", "app", "delivery", "email", "kakao")
MAX_LEAVES = 3000


@dataclass(frozen=True)
class Dim:
    concept: str
    column: str
    values: tuple[str, ...]
    weights: np.ndarray  # share of sessions per value


@dataclass
class World:
    """Expected sessions, conversion, order value and survey mix per day x leaf."""

    seed: int
    country: str
    start: date
    days: int
    dims: list[Dim]
    leaves: np.ndarray  # (L, len(dims)) value index per dimension
    volume: np.ndarray  # (D, L) expected sessions
    conversion: np.ndarray  # (D, L) expected conversion rate
    order_value: np.ndarray  # (D, L) mean order value
    order_shape: float  # gamma shape of one order's value
    noise: float  # relative day-to-day noise of rates (shared by every leaf)
    touchpoints: tuple[str, ...]
    tp_weights: np.ndarray  # (T,)
    responses: np.ndarray  # (D,) expected survey answers a day
    nps_mix: np.ndarray  # (D, T, 3) detractor, passive, promoter shares
    names: dict[str, str] = field(default_factory=dict)  # table and column names

    @property
    def timezone(self) -> str:
        return COUNTRIES[self.country]

    @property
    def eval_start(self) -> date:
        return self.start + timedelta(days=HISTORY)

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.days - 1)

    def day(self, index: int) -> date:
        return self.start + timedelta(days=index)

    def segment_mask(self, segment: dict[str, str]) -> np.ndarray:
        """Which leaves belong to ``segment`` (column -> value)."""
        mask = np.ones(len(self.leaves), dtype=bool)
        for i, d in enumerate(self.dims):
            if d.column in segment:
                mask &= self.leaves[:, i] == d.values.index(segment[d.column])
        return mask


def _zipf(rng: np.random.Generator, n: int) -> np.ndarray:
    w = (1.0 / np.arange(1, n + 1) ** rng.uniform(0.3, 1.2)) * rng.lognormal(0, 0.3, n)
    return rng.permutation(w / w.sum())


def _dims(rng: np.random.Generator, concepts: list[str], cards: dict[str, int]) -> list[Dim]:
    out = []
    for concept in concepts:
        columns, values = POOL[concept]
        chosen = tuple(rng.choice(values, cards[concept], replace=False))
        out.append(Dim(concept, str(rng.choice(columns)), chosen, _zipf(rng, len(chosen))))
    return out


def _calendar(rng: np.random.Generator, country: str, start: date, days: int) -> np.ndarray:
    """(D,) 1 on public holidays of ``country``."""
    cal = holidays.country_holidays(country, years=range(start.year, start.year + 2))
    return np.array([start + timedelta(days=i) in cal for i in range(days)], dtype=float)


def _daily_volume(
    rng: np.random.Generator, base: float, start: date, days: int, holiday: np.ndarray
) -> np.ndarray:
    dow = np.array([(start + timedelta(days=i)).weekday() for i in range(days)])
    weekly = 1 + rng.uniform(-0.25, 0.25) * np.isin(dow, (5, 6)) + rng.normal(0, 0.04, 7)[dow]
    growth = np.exp(np.linspace(0, rng.uniform(-0.1, 0.5), days))
    lift = rng.uniform(-0.4, 0.3)  # holidays: quieter offices, busier shopping
    return np.asarray(base * weekly * growth * (1 + lift * holiday) * rng.lognormal(0, 0.03, days))


def _leaf_factor(
    rng: np.random.Generator, dims: list[Dim], leaves: np.ndarray, sd: float
) -> np.ndarray:
    per_value = [rng.lognormal(0, sd, len(d.values)) for d in dims]
    factor = np.ones(len(leaves))
    for i, values in enumerate(per_value):
        factor *= values[leaves[:, i]]
    return np.asarray(factor * rng.lognormal(0, sd / 3, len(leaves)))


def _rates(
    rng: np.random.Generator, world_days: int, dow: np.ndarray, holiday: np.ndarray
) -> np.ndarray:
    """(D,) multipliers of rates: weekday pattern, holidays, slow drift."""
    weekly = 1 + rng.normal(0, 0.05, 7)[dow] - rng.uniform(0, 0.1) * np.isin(dow, (5, 6))
    drift = np.exp(np.linspace(0, rng.normal(0, 0.05), world_days))
    return np.asarray(weekly * drift * (1 + rng.uniform(-0.1, 0.2) * holiday))


def _build(
    rng: np.random.Generator,
    seed: int,
    *,
    country: str,
    start: date,
    days: int,
    dims: list[Dim],
    volume: float,
    responses: float,
    touchpoints: tuple[str, ...],
) -> World:
    grids = np.meshgrid(*[np.arange(len(d.values)) for d in dims], indexing="ij")
    leaves = np.stack([g.ravel() for g in grids], axis=1)
    share = np.ones(len(leaves))
    for i, d in enumerate(dims):
        share *= d.weights[leaves[:, i]]
    share *= rng.lognormal(0, 0.3, len(leaves))
    share /= share.sum()
    holiday = _calendar(rng, country, start, days)
    dow = np.array([(start + timedelta(days=i)).weekday() for i in range(days)])
    daily = _daily_volume(rng, volume, start, days, holiday)
    conv = rng.uniform(0.015, 0.08) * _leaf_factor(rng, dims, leaves, 0.25)
    aov = rng.uniform(20, 200) * _leaf_factor(rng, dims, leaves, 0.15)
    tp = _zipf(rng, len(touchpoints)) * 0.5 + 0.5 / len(touchpoints)
    nps = rng.uniform(-10, 50, len(touchpoints))  # NPS per touchpoint, in points
    detractor = rng.uniform(0.1, 0.25, len(touchpoints))
    promoter = np.clip(detractor + nps / 100, 0.02, 0.9)
    mix = np.stack([detractor, 1 - detractor - promoter, promoter], axis=1)
    mix = np.clip(mix, 0.01, None) / np.clip(mix, 0.01, None).sum(axis=1, keepdims=True)
    return World(
        seed=seed,
        country=country,
        start=start,
        days=days,
        dims=dims,
        leaves=leaves,
        volume=daily[:, None] * share[None, :],
        conversion=np.clip(_rates(rng, days, dow, holiday)[:, None] * conv[None, :], 0, 0.9),
        order_value=_rates(rng, days, dow, holiday)[:, None] * aov[None, :],
        order_shape=float(rng.uniform(1.5, 4.0)),
        noise=float(rng.uniform(0.005, 0.02)),
        touchpoints=touchpoints,
        tp_weights=tp / tp.sum(),
        responses=responses * daily / volume,
        nps_mix=np.repeat(mix[None, :, :], days, axis=0),
    )


def draw_world(seed: int) -> World:
    """A random warehouse: 1k-1M sessions a day, 2-4 dimensions, 220 days."""
    rng = np.random.default_rng(seed)
    concepts = list(rng.choice(list(POOL), int(rng.integers(2, 5)), replace=False))
    cards = {c: int(rng.integers(CARDINALITY[c][0], CARDINALITY[c][1] + 1)) for c in concepts}
    while np.prod(list(cards.values())) > MAX_LEAVES:
        biggest = max(cards, key=lambda c: cards[c])
        cards[biggest] -= 1
    volume = float(np.exp(rng.uniform(np.log(1_000), np.log(1_000_000))))
    country = str(rng.choice(list(COUNTRIES)))
    start = date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 365)))
    touchpoints = tuple(rng.choice(TOUCHPOINTS, int(rng.integers(3, 7)), replace=False))
    world = _build(
        rng,
        seed,
        country=country,
        start=start,
        days=HISTORY + 100,
        dims=_dims(rng, concepts, cards),
        volume=volume,
        responses=float(np.exp(rng.uniform(np.log(150), np.log(3_000)))),
        touchpoints=touchpoints,
    )
    world.names = _names(rng)
    return world


def retailer_world(seed: int) -> World:
    """The issue's held-out shape: sessions by platform, city, grade and traffic source,
    an NPS survey by touchpoint, 258 days in Korea."""
    rng = np.random.default_rng(seed)
    cards = {"platform": 4, "city": 12, "grade": 4, "traffic_source": 6}
    world = _build(
        rng,
        seed,
        country="KR",
        start=date(2026, 3, 1),
        days=258,
        dims=_dims(rng, list(cards), cards),
        volume=40_000,
        responses=800,
        touchpoints=("delivery", "call_center", "chat", "store", "app"),
    )
    world.dims = [replace(d, column=d.concept) for d in world.dims]
    world.tp_weights = np.full(len(world.touchpoints), 1 / len(world.touchpoints))
    world.names = {"sessions": "sessions", "time": "session_start", "survey": "nps_survey"}
    world.names["touchpoint"] = "touchpoint"
    return world


def _names(rng: np.random.Generator) -> dict[str, str]:
    return {
        "sessions": str(rng.choice(["sessions", "web_sessions", "visits", "traffic"])),
        "time": str(rng.choice(["session_start", "started_at", "visit_time"])),
        "survey": str(rng.choice(["nps_responses", "survey_answers", "voc_nps"])),
        "touchpoint": str(rng.choice(["touchpoint", "contact_channel", "survey_channel"])),
    }
