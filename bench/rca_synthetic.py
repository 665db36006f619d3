"""Synthetic root-cause cases in the style of the RiskLoc paper's S/L/H sets.

Written from the paper's description, not from its code: leaves are combinations of
4–6 dimensions with 5–20 values each (every combination, or a random sample of them
when there are too many); each leaf has a true value and a forecast (the expected
value) carrying relative noise; 1–3 root-cause elements, all at one layer (1–3
dimensions), are injected by moving their leaves' actual values by a severity drawn
per element, with a per-leaf deviation, all in one direction (one incident). Elements
never overlap.

``ratio=True`` makes a derived measure instead: each leaf has a denominator (volume)
and a rate; the incident moves the rate of the element's leaves, and the expected
numerator and denominator both carry noise, like a success rate read against the
minutes before.

Run from the repository root, ``python -m bench.rca_synthetic [--cases N]``, to print
F1 and time per case of cx-agent's ``localize`` beside RiskLoc
(``bench/riskloc_baseline.py``) on fresh cases (seeds other than ``bench/rca.py``'s),
broken down by the layer of the root-cause elements and by how many there are.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Case", "additive_case", "coded_name", "element_name", "generate"]


@dataclass(frozen=True)
class Case:
    """Leaf table (dimension columns, num/den before/after) and the true elements."""

    leaves: pd.DataFrame
    dimensions: list[str]
    truth: list[str]


def element_name(segment: dict[str, str]) -> str:
    """``dim=value&dim=value`` with dimensions sorted: the papers' element notation."""
    return "&".join(f"{d}={segment[d]}" for d in sorted(segment))


def coded_name(dims: list[str], cuboid: list[int] | tuple[int, ...], row: np.ndarray) -> str:
    """The element named by value codes ``row`` of ``cuboid`` (code ``k`` of ``a``: ``a{k+1}``)."""
    return element_name({dims[d]: f"{dims[d]}{v + 1}" for d, v in zip(cuboid, row, strict=True)})


def additive_case(
    dims: list[str], codes: np.ndarray, forecast: np.ndarray, actual: np.ndarray, truth: list[str]
) -> Case:
    """An additive case from leaf value codes, forecast and actual values (``den`` is 1)."""
    frame = pd.DataFrame({d: [f"{d}{v + 1}" for v in codes[:, i]] for i, d in enumerate(dims)})
    ones = np.ones(len(codes))
    sides = {"num_before": forecast, "den_before": ones, "num_after": actual, "den_after": ones}
    return Case(frame.assign(**sides), dims, truth)


def generate(
    rng: np.random.Generator,
    *,
    leaves: int = 20_000,
    dimensions: tuple[int, int] = (4, 6),
    values: tuple[int, int] = (5, 20),
    noise: tuple[float, float] = (0.0, 0.1),
    severity: tuple[float, float] = (0.2, 0.9),
    deviation: float = 0.1,
    ratio: bool = False,
) -> Case:
    """One case with at most ``leaves`` leaves."""
    count = rng.integers(dimensions[0], dimensions[1] + 1)
    cards = rng.integers(values[0], values[1] + 1, size=count)
    dims = [chr(ord("a") + i) for i in range(len(cards))]
    codes = _leaf_codes(rng, cards, leaves)
    frame = pd.DataFrame({d: [f"{d}{v}" for v in codes[:, i]] for i, d in enumerate(dims)})
    elements = _elements(rng, codes, dims, layer=int(rng.integers(1, 4)))
    sigma = rng.uniform(*noise)
    volume = np.exp(rng.normal(3.0, 1.5, len(frame)))
    factor = np.ones(len(frame))
    sign = -1.0 if ratio else rng.choice([-1.0, 1.0])
    for mask in elements.values():
        s = rng.uniform(*severity) * (0.5 if ratio else 1.0)
        factor[mask] = 1 + sign * s * (1 + rng.uniform(-deviation, deviation, mask.sum()))
    sides = (
        _ratio_sides(rng, volume, factor, sigma) if ratio else _sides(rng, volume, factor, sigma)
    )
    return Case(frame.assign(**sides), dims, [element_name(dict(key)) for key in elements])


def _sides(
    rng: np.random.Generator, volume: np.ndarray, factor: np.ndarray, sigma: float
) -> dict[str, np.ndarray]:
    expected = np.clip(volume * (1 + rng.normal(0, sigma, len(volume))), 0, None)
    ones = np.ones(len(volume))
    return {
        "num_before": expected,
        "den_before": ones,
        "num_after": volume * factor,
        "den_after": ones,
    }


def _ratio_sides(
    rng: np.random.Generator, volume: np.ndarray, factor: np.ndarray, sigma: float
) -> dict[str, np.ndarray]:
    rate = rng.uniform(0.7, 0.99, len(volume))
    den_before = np.clip(volume * (1 + rng.normal(0, sigma, len(volume))), 0, None)
    rate_before = np.clip(rate * (1 + rng.normal(0, sigma / 4, len(volume))), 0, 1)
    return {
        "num_before": den_before * rate_before,
        "den_before": den_before,
        "num_after": volume * np.clip(rate * factor, 0, 1),
        "den_after": volume,
    }


def _leaf_codes(rng: np.random.Generator, cards: np.ndarray, leaves: int) -> np.ndarray:
    """Every combination when there are at most ``leaves``, else a random sample."""
    if np.prod(cards.astype(float)) <= leaves:
        grids = np.meshgrid(*[np.arange(c) for c in cards], indexing="ij")
        return np.column_stack([g.ravel() for g in grids])
    drawn = np.column_stack([rng.integers(0, c, size=int(leaves * 1.2)) for c in cards])
    codes = np.unique(drawn, axis=0)
    return codes[np.sort(rng.permutation(len(codes))[:leaves])]


def _elements(
    rng: np.random.Generator, codes: np.ndarray, dims: list[str], layer: int
) -> dict[tuple[tuple[str, str], ...], np.ndarray]:
    """1–3 disjoint elements at ``layer``, each covering some leaves."""
    wanted = int(rng.integers(1, 4))
    taken = np.zeros(len(codes), dtype=bool)
    found: dict[tuple[tuple[str, str], ...], np.ndarray] = {}
    for _ in range(200):
        if len(found) == wanted:
            break
        chosen = sorted(rng.choice(len(dims), size=layer, replace=False))
        row = codes[rng.integers(len(codes))]
        mask = np.all(codes[:, chosen] == row[chosen], axis=1)
        if not mask.any() or (mask & taken).any():
            continue
        key = tuple((dims[d], f"{dims[d]}{row[d]}") for d in chosen)
        found[key] = mask
        taken |= mask
    return found


def _breakdown(cases: int) -> None:
    """Print the table: per measure, per layer and per number of elements."""
    # imported here: bench.rca imports this module, so a top-level import would be circular
    from agent.attribute import localize
    from bench.rca import Score
    from bench.riskloc_baseline import riskloc

    print(
        "| measure  | group      | cases | F1    | P / R         | ms/case | F1 RiskLoc "
        "| ms RiskLoc | cx/RiskLoc |"
    )
    print(
        "|----------|------------|-------|-------|---------------|---------|------------"
        "|------------|------------|"
    )
    for measure, seed, ratio in (("additive", 11, False), ("ratio", 12, True)):
        groups: dict[str, tuple[Score, Score]] = {}
        rng = np.random.default_rng(seed)
        for _ in range(cases):
            case = generate(rng, ratio=ratio)
            start = time.perf_counter()
            ours = localize(case.leaves, case.dimensions, additive=not ratio).causes
            middle = time.perf_counter()
            theirs = riskloc(case.leaves, case.dimensions, additive=not ratio)
            end = time.perf_counter()
            layer = len(case.truth[0].split("&"))
            for name in ("all", f"layer {layer}", f"{len(case.truth)} elements"):
                mine, risk = groups.setdefault(name, (Score(), Score()))
                mine.add({element_name(c.segment) for c in ours}, set(case.truth), middle - start)
                risk.add({element_name(e) for e in theirs}, set(case.truth), end - middle)
        for name in sorted(groups, key=lambda g: (g != "all", g)):
            mine, risk = groups[name]
            print(
                f"| {measure:<8} | {name:<10} | {mine.cases:>5} | {mine.f1:.3f} "
                f"| {mine.precision_recall} | {mine.ms:>7.1f} | {risk.f1:>10.3f} "
                f"| {risk.ms:>10.1f} | {mine.ms / max(risk.ms, 1e-9):>10.2f} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description="cx-agent vs RiskLoc on synthetic cases")
    parser.add_argument("--cases", type=int, default=150, help="cases per measure")
    _breakdown(parser.parse_args().cases)


if __name__ == "__main__":
    main()
