"""Synthetic cases in the style of the RiskLoc paper's S and L sets, and two harder sets.

Written from the paper's description of its generator (Kalander, arXiv 2205.10004, and
the argument list of ``generate_dataset.py`` in github.com/shaido987/riskloc, whose
README gives the settings of S and L); no code of theirs is used. One case:

* leaves: every combination of the dimensions' values; an actual value drawn from a
  Weibull law (shape uniform in [0.5, 1], scale 100), a share of the leaves (uniform in
  ``zero_rate``) set to 0;
* forecast: the actual value with relative Gaussian noise (level uniform in ``noise``);
  actual and forecast are swapped in half of the leaves, so the noise goes both ways;
* anomalies: a number of them (uniform in ``anomalies``), each in its own cuboid of a
  layer drawn in ``layers``, holding a number of elements (uniform in ``elements``); values
  used by an earlier anomaly in a shared dimension are not reused, so elements sharing a
  dimension never overlap (elements in different dimensions may: a leaf in two takes
  the later one's move). Each anomaly has a severity (uniform in ``severity``, plus the noise level)
  and a deviation (uniform in ``deviation``); each leaf of its elements moves by
  ``max(1 - r, 0)``, ``r`` normal with that mean and deviation, after its noise is undone;
* direction: the side that the noise already made larger is the one the anomalies lower
  (the forecast when the actual total exceeds it), so noise and anomaly do not cancel.

Sets (``SETS``): ``S`` and ``L`` with the paper's settings; ``S-deep`` puts every cause at
layer 4–6 of 6 dimensions; ``S-many`` has 5–7 simultaneous causes at layers 1–3.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import product

import numpy as np

from bench.rca_synthetic import Case, additive_case, coded_name

__all__ = ["SETS", "Setting", "riskloc_case"]


@dataclass(frozen=True)
class Setting:
    """The generator's parameters (ranges are inclusive)."""

    cards: tuple[int, ...] = (10, 12, 10, 8, 5)
    zero_rate: tuple[float, float] = (0.0, 0.25)
    noise: tuple[float, float] = (0.0, 0.25)
    severity: tuple[float, float] = (0.2, 1.0)
    deviation: tuple[float, float] = (0.0, 0.1)
    anomalies: tuple[int, int] = (1, 3)
    elements: tuple[int, int] = (1, 3)
    layers: tuple[int, int] | None = None
    """Layers of the anomalies; None: 1 to the number of dimensions."""


SETS: dict[str, Setting] = {
    "S": Setting(),
    "L": Setting(
        cards=(10, 24, 10, 15),
        noise=(0.0, 0.1),
        severity=(0.5, 1.0),
        deviation=(0.0, 0.0),
        anomalies=(1, 5),
        elements=(1, 1),
        layers=(4, 4),
    ),
    "S-deep": Setting(cards=(8, 6, 5, 5, 4, 4), layers=(4, 6)),
    "S-many": replace(Setting(), anomalies=(5, 7), elements=(1, 1), layers=(1, 3)),
}


def riskloc_case(rng: np.random.Generator, setting: Setting) -> Case:
    """One additive case (``num`` columns; ``den`` is 1)."""
    dims = [chr(ord("a") + i) for i in range(len(setting.cards))]
    codes = np.array(list(product(*[range(c) for c in setting.cards])), dtype=np.int64)
    actual = rng.weibull(rng.uniform(0.5, 1.0), len(codes)) * 100
    actual *= rng.uniform(size=len(codes)) > rng.uniform(*setting.zero_rate)
    sigma = rng.uniform(*setting.noise)
    forecast = actual * (1 + rng.normal(0, sigma, len(codes)))
    swap = rng.integers(0, 2, len(codes)).astype(bool)
    actual, forecast = np.where(swap, forecast, actual), np.where(swap, actual, forecast)
    forecast = np.clip(forecast, 0, None)
    lower_forecast = actual.sum() > forecast.sum()
    truth: list[str] = []
    for mask, r in _anomalies(rng, codes, actual, setting, sigma, dims, truth):
        base = actual[mask] if lower_forecast else forecast[mask]
        moved = np.maximum(base * (1 - r), 0.0)
        actual[mask], forecast[mask] = (base, moved) if lower_forecast else (moved, base)
    return additive_case(dims, codes, forecast, actual, truth)


def _anomalies(
    rng: np.random.Generator,
    codes: np.ndarray,
    actual: np.ndarray,
    setting: Setting,
    sigma: float,
    dims: list[str],
    truth: list[str],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per anomaly, its leaves and each leaf's ``r``; the elements' names go to ``truth``."""
    used: dict[int, set[int]] = {}
    cuboids: set[tuple[int, ...]] = set()
    low, high = setting.layers or (1, len(dims))
    out = []
    for _ in range(int(rng.integers(setting.anomalies[0], setting.anomalies[1] + 1))):
        layer = int(rng.integers(low, high + 1))
        count = int(rng.integers(setting.elements[0], setting.elements[1] + 1))
        chosen = _place(rng, codes, actual, used, cuboids, layer, count)
        if chosen is None:
            continue
        cuboid, rows = chosen
        mask = np.zeros(len(codes), dtype=bool)
        for row in rows:
            mask |= np.all(codes[:, cuboid] == row, axis=1)
            truth.append(coded_name(dims, cuboid, row))
        for j, d in enumerate(cuboid):
            used.setdefault(d, set()).update(int(v) for v in rows[:, j])
        cuboids.add(cuboid)
        severity = rng.uniform(*setting.severity) + sigma
        out.append((mask, rng.normal(severity, rng.uniform(*setting.deviation), mask.sum())))
    return out


def _place(
    rng: np.random.Generator,
    codes: np.ndarray,
    actual: np.ndarray,
    used: dict[int, set[int]],
    cuboids: set[tuple[int, ...]],
    layer: int,
    count: int,
) -> tuple[tuple[int, ...], np.ndarray] | None:
    """A fresh cuboid of ``layer`` and ``count`` distinct value rows avoiding used values.

    At the last layer an element is a single leaf: it must not be 0, or nothing could
    show it. None after 100 tries.
    """
    cards = codes.max(axis=0) + 1
    for _ in range(100):
        cuboid = tuple(sorted(int(d) for d in rng.choice(len(cards), layer, replace=False)))
        if cuboid in cuboids and layer < len(cards):
            continue
        free = [np.setdiff1d(np.arange(cards[d]), list(used.get(d, ()))) for d in cuboid]
        if any(len(f) == 0 for f in free):
            continue
        rows = np.column_stack([rng.choice(f, count) for f in free])
        if len(np.unique(rows, axis=0)) < count:
            continue
        if layer == len(cards) and any(actual[_leaf(codes, row)] == 0 for row in rows):
            continue
        return cuboid, rows
    return None


def _leaf(codes: np.ndarray, row: np.ndarray) -> int:
    return int(np.flatnonzero(np.all(codes == row, axis=1))[0])
