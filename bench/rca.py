"""Root-cause localization benchmark: F1 and time per case of ``agent.attribute.localize``.

Run from the repository root with the project's Python:

    python -m bench.rca            # every set
    python -m bench.rca --quick    # fewer synthetic cases

Data are read from ``../shared/bench/rca`` (override with ``CX_AGENT_BENCH_DATA``,
which points at the folder holding ``rca/``). Sets:

* ``RS`` — the RobustSpot real-world cases (derived measure: success rate). A case is
  read as the papers read it (``rca/README.md``): at the anomalous minute, numerator
  ``cnt - value`` and denominator ``cnt`` per leaf; the expectation is each leaf's mean
  over the 4 minutes before (0 without history); only that minute's leaves are seen.
* ``SYN-add`` / ``SYN-ratio`` — synthetic cases from ``bench/rca_synthetic.py``
  (additive, and derived), in the style of the RiskLoc paper's S set.
* ``SYN-100k`` — synthetic cases of 100,000 leaves: the scale check.

Scoring (the papers' rule): a predicted element is a true positive only if it equals a
true element exactly (``dim=value&dim=value``, dimensions sorted); TP, FP and FN are
summed over the cases of a set, then precision, recall and F1. Times are wall-clock
per call of ``localize`` on this machine, measured in this run.

Comparators, run on the same cases in the same run: the one-dimension method cx-agent
used before, and RiskLoc (our own implementation, ``bench/riskloc_baseline.py``, with its
published defaults). ``cx/RiskLoc`` is cx-agent's time per case over RiskLoc's.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from agent.attribute import MIN_SHARE, localize
from agent.attribute.decompose import split
from bench.rca_synthetic import Case, element_name, generate
from bench.riskloc_baseline import riskloc

ROOT = Path(__file__).resolve().parents[1]
HISTORY = 4
"""Minutes before the anomaly whose mean is the expectation (the papers' setting)."""

PUBLISHED: dict[str, dict[str, float]] = {}
"""Published F1 per set and method, each with its source. Empty: the tables of the RiskLoc
paper (arXiv 2205.10004) and of the RobustSpot paper could not be read from here. The
shaido987/riskloc README (all stored versions) lists no figures, and no page quoting them
was found. A figure is added here only together with its source, never from memory."""

RISKLOC_SECONDS_PER_CASE: float | None = None
"""RiskLoc's published time per case: not found (see ``PUBLISHED``)."""


@dataclass
class Score:
    """Summed TP/FP/FN and time over the cases of one set, for one method."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    seconds: float = 0.0
    cases: int = 0

    def add(self, predicted: set[str], truth: set[str], seconds: float) -> None:
        hits = len(predicted & truth)
        self.tp += hits
        self.fp += len(predicted) - hits
        self.fn += len(truth) - hits
        self.seconds += seconds
        self.cases += 1

    @property
    def f1(self) -> float:
        p = self.tp / max(self.tp + self.fp, 1)
        r = self.tp / max(self.tp + self.fn, 1)
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def precision_recall(self) -> str:
        return (
            f"{self.tp / max(self.tp + self.fp, 1):.3f} / {self.tp / max(self.tp + self.fn, 1):.3f}"
        )

    @property
    def ms(self) -> float:
        return 1000 * self.seconds / max(self.cases, 1)


def rs_cases(folder: Path) -> Iterator[Case]:
    """The RS cases read as the papers read them."""
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
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield generate(rng, **options)  # type: ignore[arg-type]


def one_dimension(leaves: pd.DataFrame, dimensions: list[str], additive: bool) -> set[str]:
    """Reference measured in the same run: one dimension at a time (Adtributor-like).

    The values of the best single dimension (``localize``'s own ranking) that carry at
    least ``MIN_SHARE`` of the change, as cx-agent did before the lattice search.
    """
    tables = {d: split(leaves, d, additive=additive) for d in dimensions}
    best = max(tables, key=lambda d: round(min(tables[d]["share"].max(), 1.0), 2))
    chosen = tables[best][tables[best]["share"] >= MIN_SHARE]["value"]
    return {element_name({best: str(v)}) for v in chosen}


def evaluate(cases: Iterator[Case], *, additive: bool) -> tuple[Score, Score, Score, int]:
    """(lattice search, one dimension, RiskLoc, total leaves) over the cases of one set."""
    ours, reference, risk, leaves = Score(), Score(), Score(), 0
    for case in cases:
        start = time.perf_counter()
        found = localize(case.leaves, case.dimensions, additive=additive)
        middle = time.perf_counter()
        simple = one_dimension(case.leaves, case.dimensions, additive)
        end = time.perf_counter()
        elements = riskloc(case.leaves, case.dimensions, additive=additive)
        last = time.perf_counter()
        truth = set(case.truth)
        ours.add({element_name(c.segment) for c in found.causes}, truth, middle - start)
        reference.add(simple, truth, end - middle)
        risk.add({element_name(e) for e in elements}, truth, last - end)
        leaves += len(case.leaves)
    return ours, reference, risk, leaves


HEADER = (
    "| set        | cases | leaves/case | F1    | P / R         | ms/case | F1 1-dim "
    "| ms 1-dim | F1 RiskLoc | ms RiskLoc | cx/RiskLoc | best published F1 |"
)


def row(name: str, ours: Score, reference: Score, risk: Score, leaves: int) -> str:
    published = PUBLISHED.get(name)
    best = f"{max(published.values()):.3f}" if published else "not found"
    return (
        f"| {name:<10} | {ours.cases:>5} | {leaves / max(ours.cases, 1):>11,.0f} "
        f"| {ours.f1:.3f} | {ours.precision_recall} | {ours.ms:>7.1f} | {reference.f1:>8.3f} "
        f"| {reference.ms:>8.1f} | {risk.f1:>10.3f} | {risk.ms:>10.1f} "
        f"| {ours.ms / max(risk.ms, 1e-9):>10.2f} | {best:>17} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer synthetic cases")
    args = parser.parse_args()
    n = 20 if args.quick else 100
    data = Path(os.environ.get("CX_AGENT_BENCH_DATA", ROOT.parent / "shared" / "bench"))
    sets = {
        "RS": (rs_cases(data / "rca" / "RS"), False),
        "SYN-add": (synthetic(1, n), True),
        "SYN-ratio": (synthetic(2, n, ratio=True), False),
        "SYN-100k": (
            synthetic(3, n // 10, leaves=100_000, dimensions=(6, 6), values=(10, 20)),
            True,
        ),
    }
    print(HEADER)
    print("|" + "|".join("-" * (len(c)) for c in HEADER.split("|")[1:-1]) + "|")
    for name, (cases, additive) in sets.items():
        print(row(name, *evaluate(cases, additive=additive)), flush=True)
    print()
    print("Published F1 (RiskLoc arXiv 2205.10004, RobustSpot): not found from here; no figure")
    print("is printed rather than one invented. RiskLoc's published time per case: not found.")
    print("RiskLoc columns: bench/riskloc_baseline.py with the published defaults (risk 0.5,")
    print("pep 0.02, 5 extreme deviations ignored, element pruning), run here on the same cases.")


if __name__ == "__main__":
    main()
