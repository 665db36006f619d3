"""Root-cause localization benchmark: F1 and time per case of ``agent.attribute.localize``.

Run from the repository root with the project's Python:

    python -m bench.rca              # every set, judging cases
    python -m bench.rca --quick      # a fifth of the generated cases
    python -m bench.rca --tuning     # the tuning cases instead (what constants were chosen on)
    python -m bench.rca --sets S,L   # some sets only

Data are read from ``../shared/bench/rca`` (override with ``CX_AGENT_BENCH_DATA``,
which points at the folder holding ``rca/``); the sets and their tuning and judging
cases are described in ``bench/rca_sets.py``. ``localize`` runs at the product's
defaults, the same for every set.

Scoring (the papers' rule): a predicted element is a true positive only if it equals a
true element exactly (``dim=value&dim=value``, dimensions sorted); TP, FP and FN are
summed over the cases of a set, then precision, recall and F1. Times are wall-clock
per call, measured in this run, one method after the other on each case.

Comparators, run on the same cases: the one-dimension method cx-agent used before, and
RiskLoc (our own implementation, ``bench/riskloc_baseline.py``, with its published
defaults). ``RL/cx`` is RiskLoc's time per case over cx-agent's (how many times faster
cx-agent is). Then F1 by setting: the B sets by (layer × number of elements), the
RiskLoc-style sets by the deepest layer holding a cause, cx-agent beside RiskLoc.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from agent.attribute import MIN_SHARE, localize
from agent.attribute.decompose import split
from bench.rca_sets import CaseSet, case_sets, setting_of
from bench.rca_squeeze import NOISE
from bench.rca_synthetic import Case, element_name
from bench.riskloc_baseline import riskloc

ROOT = Path(__file__).resolve().parents[1]

PUBLISHED: dict[str, dict[str, float]] = {}
"""Published F1 per set and method, each with its source. Empty: the tables of the RiskLoc
paper (arXiv 2205.10004) and of the RobustSpot paper could not be read from here: the
stored copies of the paper's pages hold only its abstract, and every stored version of
the shaido987/riskloc README lists how to generate the sets, not the figures. A figure
is added here only together with its source, never from memory."""


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

    @classmethod
    def merged(cls, scores: Iterable[Score]) -> Score:
        """The counts of several scores summed."""
        out = cls()
        for s in scores:
            out.tp, out.fp, out.fn = out.tp + s.tp, out.fp + s.fp, out.fn + s.fn
            out.seconds, out.cases = out.seconds + s.seconds, out.cases + s.cases
        return out

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


@dataclass
class Result:
    """The three methods' scores over one set, and cx-agent's and RiskLoc's per setting."""

    ours: Score = field(default_factory=Score)
    simple: Score = field(default_factory=Score)
    risk: Score = field(default_factory=Score)
    leaves: int = 0
    settings: dict[tuple[int, int], tuple[Score, Score]] = field(default_factory=dict)


def one_dimension(leaves: pd.DataFrame, dimensions: list[str], additive: bool) -> set[str]:
    """Reference measured in the same run: one dimension at a time (Adtributor-like).

    The values of the best single dimension (``localize``'s own ranking) that carry at
    least ``MIN_SHARE`` of the change, as cx-agent did before the lattice search.
    """
    tables = {d: split(leaves, d, additive=additive) for d in dimensions}
    best = max(tables, key=lambda d: round(min(tables[d]["share"].max(), 1.0), 2))
    chosen = tables[best][tables[best]["share"] >= MIN_SHARE]["value"]
    return {element_name({best: str(v)}) for v in chosen}


def evaluate(cases: Iterable[Case], *, additive: bool) -> Result:
    """cx-agent, the one-dimension method and RiskLoc over the cases of one set."""
    result = Result()
    for case in cases:
        truth = set(case.truth)
        start = time.perf_counter()
        found = localize(case.leaves, case.dimensions, additive=additive)
        middle = time.perf_counter()
        simple = one_dimension(case.leaves, case.dimensions, additive)
        end = time.perf_counter()
        elements = riskloc(case.leaves, case.dimensions, additive=additive)
        last = time.perf_counter()
        ours = {element_name(c.segment) for c in found.causes}
        theirs = {element_name(e) for e in elements}
        result.ours.add(ours, truth, middle - start)
        result.simple.add(simple, truth, end - middle)
        result.risk.add(theirs, truth, last - end)
        mine, risk = result.settings.setdefault(setting_of(case), (Score(), Score()))
        mine.add(ours, truth, middle - start)
        risk.add(theirs, truth, last - end)
        result.leaves += len(case.leaves)
    return result


HEADER = (
    "| set        | cases | leaves/case | F1    | P / R         | ms/case | F1 1-dim "
    "| F1 RiskLoc | ms RiskLoc | RL/cx | best published F1 |"
)


def row(name: str, result: Result) -> str:
    ours, risk = result.ours, result.risk
    published = PUBLISHED.get(name)
    best = f"{max(published.values()):.3f}" if published else "not found"
    return (
        f"| {name:<10} | {ours.cases:>5} | {result.leaves / max(ours.cases, 1):>11,.0f} "
        f"| {ours.f1:.3f} | {ours.precision_recall} | {ours.ms:>7.1f} | {result.simple.f1:>8.3f} "
        f"| {risk.f1:>10.3f} | {risk.ms:>10.1f} | {risk.ms / max(ours.ms, 1e-9):>5.1f} "
        f"| {best:>17} |"
    )


def by_setting(results: dict[str, Result]) -> list[str]:
    """F1 cx-agent / RiskLoc per setting: the B sets by (layer × elements), the others by layer."""
    lines = []
    squeeze = [name for name in NOISE if name in results]
    if squeeze:
        lines += ["| B setting        | " + " | ".join(f"{n:^13}" for n in squeeze) + " |"]
        lines += ["|------------------|" + "|".join("-" * 15 for _ in squeeze) + "|"]
        for key in sorted({k for n in squeeze for k in results[n].settings}):
            cells = [_pair(results[n].settings.get(key)) for n in squeeze]
            lines.append(f"| layer {key[0]}, {key[1]} element | " + " | ".join(cells) + " |")
        lines.append("")
    for name, result in results.items():
        if name in NOISE or name == "RS" or name.startswith("SYN"):
            continue
        for layer in sorted({layer for layer, _ in result.settings}):
            parts = [v for (k, _), v in result.settings.items() if k == layer]
            mine, risk = Score.merged(p[0] for p in parts), Score.merged(p[1] for p in parts)
            lines.append(
                f"| {name:<8} | deepest cause at layer {layer} | {mine.cases:>5} cases "
                f"| cx {mine.f1:.3f} | RiskLoc {risk.f1:.3f} |"
            )
    return lines


def _pair(scores: tuple[Score, Score] | None) -> str:
    if scores is None:
        return f"{'-':^13}"
    return f"{scores[0].f1:.3f} / {scores[1].f1:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fifth of the generated cases")
    parser.add_argument("--tuning", action="store_true", help="the tuning cases, not judging")
    parser.add_argument("--sets", help="comma-separated set names (default: all)")
    args = parser.parse_args()
    data = Path(os.environ.get("CX_AGENT_BENCH_DATA", ROOT.parent / "shared" / "bench"))
    wanted = set(args.sets.split(",")) if args.sets else None
    chosen: list[CaseSet] = [
        s for s in case_sets(data / "rca" / "RS", args.quick) if not wanted or s.name in wanted
    ]
    split_name = "tuning" if args.tuning else "judging"
    if not (data / "rca" / "RS").is_dir():
        print(f"RS left out: no {data / 'rca' / 'RS'} (set CX_AGENT_BENCH_DATA to the folder")
        print("holding rca/RS); the generated sets need no data.")
    print(f"Cases: the {split_name} cases of each set (bench/rca_sets.py).")
    print(HEADER)
    print("|" + "|".join("-" * (len(c)) for c in HEADER.split("|")[1:-1]) + "|")
    results = {}
    for case_set in chosen:
        cases = case_set.make(not args.tuning, case_set.count)
        results[case_set.name] = evaluate(cases, additive=case_set.additive)
        print(row(case_set.name, results[case_set.name]), flush=True)
    print()
    for line in by_setting(results):
        print(line)
    print()
    print("Published F1 (RiskLoc arXiv 2205.10004, RobustSpot): not found from here; no figure")
    print("is printed rather than one invented. RiskLoc columns: bench/riskloc_baseline.py with")
    print("the published defaults (risk 0.5, pep 0.02, 5 extreme deviations ignored, element")
    print("pruning), run here on the same cases.")


if __name__ == "__main__":
    main()
