"""The case sets ``bench.rca`` measures, each with its tuning and its judging cases.

Constants of ``agent/attribute`` are chosen by looking at the *tuning* cases only; the
figures ``bench.rca`` prints by default come from the *judging* cases, which no
constant was chosen on. Generated sets differ only by their seeds; the real RS set is
split in two: its odd cases (in ``anomaly.yaml`` order) tune, its even cases judge.

* ``RS`` — the RobustSpot real-world cases (derived measure: success rate), read as the
  papers read them (``rs_cases``).
* ``SYN-add`` / ``SYN-ratio`` / ``SYN-100k`` — ``bench/rca_synthetic.py``: 1–3 disjoint
  causes at layers 1–3, additive or a rate, the last with 100,000 leaves of 6 dimensions.
* ``S``, ``L``, ``S-deep``, ``S-many`` — ``bench/rca_riskloc_style.py``: the RiskLoc
  paper's S and L settings, causes at layers 4–6, and 5–7 simultaneous causes.
* ``B0`` … ``B4`` — ``bench/rca_squeeze.py``: the Squeeze paper's 9 settings (layer 1–3
  × 1–3 elements) at 5 noise levels, the same number of cases per setting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from bench.rca_riskloc_style import SETS as RISKLOC_STYLE
from bench.rca_riskloc_style import riskloc_case
from bench.rca_squeeze import NOISE, SETTINGS, squeeze_case
from bench.rca_synthetic import Case, element_name, generate

__all__ = ["HISTORY", "CaseSet", "case_sets", "rs_cases", "setting_of", "synthetic"]

HISTORY = 4
"""Minutes before the anomaly whose mean is the expectation (the papers' setting)."""

Make = Callable[[bool, int], Iterator[Case]]
"""(judging?, number of cases) -> cases."""


@dataclass(frozen=True)
class CaseSet:
    """One set: how to make its cases, whether its measure is additive, how many cases."""

    name: str
    make: Make
    additive: bool
    count: int


def rs_cases(folder: Path) -> Iterator[Case]:
    """The RS cases read as the papers read them (``rca/README.md``)."""
    spec = yaml.safe_load((folder / "anomaly.yaml").read_text(encoding="utf-8"))
    for entry in spec:
        frame = pd.read_csv(folder / f"{entry['data']}.csv")
        dims = [c for c in frame.columns if c not in ("min", "value", "cnt")]
        frame[dims] = frame[dims].astype(str)
        frame["num"], frame["den"] = frame["cnt"] - frame["value"], frame["cnt"]
        minute = entry["timestamp"]
        before = sorted(m for m in frame["min"].unique() if m < minute)[-HISTORY:]
        now = frame[frame["min"] == minute].groupby(dims)[["num", "den"]].sum()
        past = frame[frame["min"].isin(before)].groupby(dims)[["num", "den"]].sum() / HISTORY
        past = past.reindex(now.index).fillna(0.0)
        leaves = pd.concat([past.add_suffix("_before"), now.add_suffix("_after")], axis=1)
        causes = entry["cause"] if isinstance(entry["cause"], list) else [entry["cause"]]
        truth = [element_name({k: str(v) for k, v in c.items()}) for c in causes]
        yield Case(leaves.reset_index().astype({c: float for c in leaves.columns}), dims, truth)


def synthetic(seed: int, count: int, **options: object) -> Iterator[Case]:
    """``count`` cases of ``bench/rca_synthetic.py`` from one seed."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield generate(rng, **options)  # type: ignore[arg-type]


def setting_of(case: Case) -> tuple[int, int]:
    """(deepest layer among the true elements, number of true elements) of a case."""
    return max(len(t.split("&")) for t in case.truth), len(case.truth)


def case_sets(rs_folder: Path, quick: bool) -> list[CaseSet]:
    """Every set, with ``quick`` about a fifth of the cases; RS only when its data is there."""

    def n(full: int) -> int:
        return max(full // 5, 1) if quick else full

    def seeded(tuning: int, judging: int, draw: Callable[[np.random.Generator], Case]) -> Make:
        def make(judge: bool, count: int) -> Iterator[Case]:
            rng = np.random.default_rng(judging if judge else tuning)
            return (draw(rng) for _ in range(count))

        return make

    def rs(judge: bool, count: int) -> Iterator[Case]:
        return (c for i, c in enumerate(rs_cases(rs_folder)) if i % 2 == (0 if judge else 1))

    def big(rng: np.random.Generator) -> Case:
        return generate(rng, leaves=100_000, dimensions=(6, 6), values=(10, 20))

    sets = [CaseSet("RS", rs, False, 0)] if (rs_folder / "anomaly.yaml").is_file() else []
    sets += [
        CaseSet("SYN-add", seeded(1, 21, generate), True, n(100)),
        CaseSet("SYN-ratio", seeded(2, 22, lambda r: generate(r, ratio=True)), False, n(100)),
        CaseSet("SYN-100k", seeded(3, 23, big), True, n(10)),
    ]
    for i, (name, setting) in enumerate(RISKLOC_STYLE.items()):
        draw = _riskloc_draw(setting)
        sets.append(CaseSet(name, seeded(1010 + i, 2010 + i, draw), True, n(50)))
    for i, name in enumerate(NOISE):
        sets.append(CaseSet(name, _squeeze_make(NOISE[name], 1000 + i, 2000 + i), True, n(90)))
    return sets


def _riskloc_draw(setting: object) -> Callable[[np.random.Generator], Case]:
    return lambda rng: riskloc_case(rng, setting)  # type: ignore[arg-type]


def _squeeze_make(noise: float, tuning: int, judging: int) -> Make:
    """Cases of one B set, cycling through its 9 settings."""

    def make(judge: bool, count: int) -> Iterator[Case]:
        rng = np.random.default_rng(judging if judge else tuning)
        for i in range(count):
            layer, elements = SETTINGS[i % len(SETTINGS)]
            yield squeeze_case(rng, noise, layer, elements)

    return make
