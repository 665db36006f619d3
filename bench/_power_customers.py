"""Customers behind a generated warehouse's sessions, for its entity metrics.

In warehouses small enough to keep one row per session (``bench._power_gen``) with
entity metrics, sessions come from customers: each has a city, grade and traffic
source (the world's customer-level dimensions), a preferred platform, a visit rate
(lognormal, higher for some grades) and a lifetime (natural churn after about 300
days, replaced by new sign-ups). A customer's visit days are a Poisson process
thinned by the world's daily volume pattern (weekdays, holidays, growth).

Incidents bend visits, not rates: churn rising in a segment (a share of its customers
stop coming back), a mix shift (the top grade visits less) and revisits falling in a
segment (its customers visit less). Each visit day keeps a ``kept`` flag, so the
metric without an incident (the counterfactual) is the same draws with the flags as
they were before it, and ``series`` computes both from the same visits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench._power_world import World

__all__ = [
    "CUSTOMER_LEVEL",
    "Cells",
    "Customers",
    "Visits",
    "draw_customers",
    "random_cells",
    "series",
    "session_cells",
]

CUSTOMER_LEVEL = ("city", "grade", "traffic_source")
"""Dimensions that belong to the customer (platform belongs to the session)."""
VISITS_A_DAY = 0.12
"""Mean sessions a day of an active customer."""
LIFETIME = 300
"""Mean days before a customer stops coming (natural churn)."""


@dataclass
class Customers:
    attrs: np.ndarray  # (N, len(world.dims)) value index per dimension; -1: session-level
    rate: np.ndarray  # (N,) visits a day while active
    signup: np.ndarray  # (N,) first day (may be before the data starts)
    lapse: np.ndarray  # (N,) first day without the customer


@dataclass
class Visits:
    """One row per customer x day with a session, sorted by customer then day."""

    customer: np.ndarray
    day: np.ndarray
    sessions: np.ndarray
    kept: np.ndarray  # False where a planted incident removed the day's visits


@dataclass
class Cells:
    """Sessions grouped by day x leaf x customer, the rows of a session table to be."""

    day: np.ndarray
    leaf: np.ndarray
    count: np.ndarray
    customer: np.ndarray


def session_cells(
    world: World, customers: Customers, visits: Visits, rng: np.random.Generator
) -> Cells:
    """The kept visit days as cells: the customer's dimensions, and the platform of the
    day (the preferred one 7 times in 10)."""
    who = visits.customer[visits.kept]
    codes = []
    for i, d in enumerate(world.dims):
        code = customers.attrs[who, i]
        if d.concept == "platform":
            other = _pick(rng, d.weights, len(who))
            code = np.where(rng.random(len(who)) < 0.7, code, other)
        codes.append(code)
    leaf = np.ravel_multi_index(tuple(codes), tuple(len(d.values) for d in world.dims))
    return Cells(visits.day[visits.kept], leaf, visits.sessions[visits.kept], who)


def random_cells(world: World, rng: np.random.Generator) -> Cells:
    """Poisson sessions per day x leaf, each cell one anonymous visitor (no customers)."""
    count = rng.poisson(world.volume)
    day, leaf = np.nonzero(count)
    visitors = rng.integers(0, max(int(world.volume.sum(axis=1).mean() * 20), 1000), len(day))
    return Cells(day, leaf, count[day, leaf], visitors)


def _pick(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    return rng.choice(len(weights), n, p=weights / weights.sum())


def draw_customers(world: World, rng: np.random.Generator) -> tuple[Customers, Visits]:
    """Customers whose visits give the world's mean daily sessions, and their visits."""
    daily = world.volume.sum(axis=1)
    pattern = daily / daily.mean()
    active = daily.mean() / VISITS_A_DAY  # customers active on an average day
    first = int(active)
    arrivals = rng.poisson(active / LIFETIME * world.days)
    n = first + arrivals
    signup = np.concatenate([-rng.uniform(1, 700, first), rng.uniform(0, world.days, arrivals)])
    lapse = np.maximum(signup, 0) + rng.exponential(LIFETIME, n)
    attrs = np.full((n, len(world.dims)), -1, dtype=np.int64)
    boost = np.ones(n)
    for i, d in enumerate(world.dims):
        if d.concept in CUSTOMER_LEVEL or d.concept == "platform":
            attrs[:, i] = _pick(rng, d.weights, n)  # platform: the preferred one
        if d.concept == "grade":
            boost *= rng.lognormal(0, 0.4, len(d.values))[attrs[:, i]]
    rate = VISITS_A_DAY * boost / boost.mean() * rng.lognormal(-0.245, 0.7, n)
    customers = Customers(attrs, rate, signup, lapse)
    return customers, _visits(customers, pattern, rng)


def _visits(c: Customers, pattern: np.ndarray, rng: np.random.Generator) -> Visits:
    days = len(pattern)
    start = np.clip(c.signup, 0, days)
    span = np.clip(c.lapse, 0, days) - start
    peak = pattern.max()
    who = np.repeat(np.arange(len(c.rate)), rng.poisson(c.rate * peak * np.maximum(span, 0)))
    day = np.floor(start[who] + rng.random(who.size) * span[who]).astype(np.int64)
    day = np.minimum(day, days - 1)
    keep = rng.random(who.size) < pattern[day] / peak
    key, sessions = np.unique(who[keep] * days + day[keep], return_counts=True)
    return Visits(key // days, key % days, sessions, np.ones(len(key), dtype=bool))


def series(
    visits: Visits,
    kept: np.ndarray,
    member: np.ndarray,
    metric: str,
    *,
    days: int,
    window: int,
    category: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(num, den) per day of an entity ``metric`` over the customers where ``member``,
    from the visit days where ``kept``.

    ``returning``: active customers also active in the ``window`` days before;
    ``churn``: customers active in the window before the last ``window`` days and not
    in them; ``mix``: active customers in ``category`` (a mask over customers)."""
    use = member[visits.customer] & kept
    who, day = visits.customer[use], visits.day[use]
    same = np.r_[False, who[1:] == who[:-1]]
    if metric == "mix":
        assert category is not None, "mix needs its category"
        return np.bincount(day[category[who]], minlength=days), np.bincount(day, minlength=days)
    if metric == "returning":
        prev = np.where(same, np.r_[0, day[:-1]], -(10**9))
        back = (day - prev) <= window
        return np.bincount(day[back], minlength=days), np.bincount(day, minlength=days)
    nxt = np.where(np.r_[same[1:], False], np.r_[day[1:], 0], 10**9)
    num = _intervals(day + window, np.minimum(day + 2 * window - 1, nxt - 1), days)
    den = _intervals(day + window, np.minimum(day + 2 * window - 1, nxt + window - 1), days)
    return num, den


def _intervals(start: np.ndarray, end: np.ndarray, days: int) -> np.ndarray:
    """How many of the day intervals [start, end] cover each day."""
    ok = (start <= end) & (start < days)
    diff = np.zeros(days + 1, dtype=np.int64)
    np.add.at(diff, start[ok], 1)
    np.add.at(diff, np.minimum(end[ok], days - 1) + 1, -1)
    return np.cumsum(diff[:-1])
