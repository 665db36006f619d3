"""Root-cause localization beside the RiskLoc and RobustSpot authors' code: F1, time per case.

Run from the repository root with the project's Python:

    CX_AGENT_RISKLOC_SRC=/path/to/riskloc python -m bench.rca_reference [--cases N]

(with ``kneed`` importable, e.g. ``PYTHONPATH=<dir holding kneed>``, for RobustSpot).

``CX_AGENT_RISKLOC_SRC`` points at a checkout of the RiskLoc authors' repository
(``git clone https://github.com/shaido987/riskloc``, MIT licence). Their ``riskloc``
function is imported from ``algorithms/riskloc.py`` there (it imports
``utils/element_scores.py`` and needs only numpy and pandas). Their code is not part of
cx-agent and is not copied into it. Without the variable the script prints how to get
the checkout and exits.

Data are read as in ``bench.rca`` (``../shared/bench/rca``, or ``CX_AGENT_BENCH_DATA``).
Sets, built with ``bench.rca``'s loaders and seeds, so the figures can be laid beside its
table: ``RS``, ``SYN-add``, ``SYN-ratio`` and ``SYN-100k``. One more set, ``RS-theirs``,
holds the RS cases read as the authors' ``utils/robustspot_data_utils.py`` reads them.
Each leaf's expectation is the mean over the rows present in the 4 minutes before the
anomaly (not their sum over 4). The expected rate given to RiskLoc is the mean of those
minutes' rates. cx-agent sees the same expected numerator and denominator.

The authors' code gets the DataFrame their ``run.py`` builds
(``utils/run_utils.read_dataframe``). For an additive measure: the dimension columns,
``real`` (actual) and ``predict`` (expected). For a derived measure (``derived=True``)
also ``real_a``/``real_b`` and ``predict_a``/``predict_b`` (numerator/denominator), with
``real = real_a / real_b``, ``predict = predict_a / predict_b`` and 0/0 read as 0. The
dimensions are passed in the case's order: the file's column order for RS (as their RS
reader does) and sorted names for the synthetic sets (as their reader does). Their
published defaults are used: risk 0.5, pep 0.02, 5 extreme deviations, element pruning.

Per case, cx-agent's ``localize`` and the authors' ``riskloc`` (and ``robustspot``) run
one after the other, in an order that rotates from case to case. Each call is timed by
wall clock. Building the input frame is not timed, as their ``run.py`` starts its clock
after reading a case. ``cx/authors`` is the
ratio of the two times per case, measured side by side in this run. Our own
implementation of RiskLoc (``bench/riskloc_baseline.py``, used by ``bench.rca``) runs on
the same cases. ``same`` counts the cases where it returns exactly the authors' elements.
On ``RS-theirs`` it sees what cx-agent sees, so its expected rate is the ratio of the
means, not the mean of the rates, and ``same`` may be lower there.
RobustSpot, the method of the paper the RS data come from, is the authors' code kept in
the same checkout (``algorithms/robustspot/``; it needs ``kneed``, see
``bench/robustspot_reference.py``), given the same frame with their defaults (at most 3
root causes). It runs in the same rotation as cx-agent and RiskLoc, on ``RS`` and
``RS-theirs`` only: on the synthetic sets one 20,000-leaf additive case takes it over a
minute, and on ratio cases it raises. ``failed`` counts the cases where their code raised
(scored as an empty answer).
Scoring is ``bench.rca``'s: exact match of ``dim=value&dim=value`` elements, with TP, FP
and FN summed over a set.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import yaml

from agent.attribute import localize
from bench.rca import ROOT, Score
from bench.rca_sets import HISTORY, rs_cases, synthetic
from bench.rca_synthetic import Case, element_name
from bench.riskloc_baseline import riskloc as riskloc_port
from bench.robustspot_reference import K, load_authors_robustspot, run_robustspot

SOURCE_VARIABLE = "CX_AGENT_RISKLOC_SRC"
HOW_TO_GET = (
    f"{SOURCE_VARIABLE} is not set: clone the RiskLoc authors' code "
    "(git clone https://github.com/shaido987/riskloc) and point it there to run this comparison."
)

AuthorsRiskLoc = Callable[..., list[dict[str, Any]]]


def load_authors_riskloc(source: Path) -> AuthorsRiskLoc:
    """The authors' ``riskloc`` function, imported from their checkout at ``source``."""
    if not (source / "algorithms" / "riskloc.py").is_file():
        raise SystemExit(f"{SOURCE_VARIABLE}={source} holds no algorithms/riskloc.py")
    sys.path.insert(0, str(source))
    return importlib.import_module("algorithms.riskloc").riskloc


def authors_frame(leaves: pd.DataFrame, dimensions: list[str], additive: bool) -> pd.DataFrame:
    """The DataFrame the authors' ``run.py`` builds from a case's leaves."""
    frame = leaves[dimensions].copy()
    if additive:
        return frame.assign(real=leaves["num_after"], predict=leaves["num_before"])
    frame = frame.assign(
        real_a=leaves["num_after"],
        real_b=leaves["den_after"],
        predict_a=leaves["num_before"],
        predict_b=leaves["den_before"],
    )
    frame["real"] = frame["real_a"] / frame["real_b"]
    frame["predict"] = frame["predict_a"] / frame["predict_b"]
    return frame.fillna(0.0)


def authors_elements(root_causes: list[dict[str, Any]]) -> set[str]:
    """Element names (``dim=value&…``) of the root causes the authors' code returns."""
    return {
        element_name({d: str(v) for d, v in zip(cause["cuboid"], element, strict=True)})
        for cause in root_causes
        for element in cause["elements"]
    }


def rs_their_reading(folder: Path) -> Iterator[tuple[Case, pd.DataFrame]]:
    """RS cases read as the authors read them, with the frame their code gets."""
    spec = yaml.safe_load((folder / "anomaly.yaml").read_text(encoding="utf-8"))
    for entry in spec:
        raw = pd.read_csv(folder / f"{entry['data']}.csv")
        dims = [c for c in raw.columns if c not in ("min", "value", "cnt")]
        raw[dims] = raw[dims].astype(str)
        raw["num"] = (raw["cnt"] - raw["value"]).astype(float)
        raw["rate"] = raw["num"] / raw["cnt"]
        minute = entry["timestamp"]
        past = raw[raw["min"].isin([minute - 60 * i for i in range(1, HISTORY + 1)])]
        means = past.groupby(dims, as_index=False)[["num", "cnt", "rate"]].mean()
        now = raw[raw["min"] == minute].reset_index(drop=True)
        before = now[dims].merge(means, on=dims, how="left").fillna(0.0)
        leaves = now[dims].assign(
            num_before=before["num"].to_numpy(),
            den_before=before["cnt"].to_numpy(float),
            num_after=now["num"],
            den_after=now["cnt"].astype(float),
        )
        frame = authors_frame(leaves, dims, additive=False)
        frame["real"] = now["rate"].fillna(0.0)
        frame["predict"] = before["rate"].to_numpy()
        causes = entry["cause"] if isinstance(entry["cause"], list) else [entry["cause"]]
        truth = [element_name({k: str(v) for k, v in c.items()}) for c in causes]
        yield Case(leaves, dims, truth), frame


def with_frames(cases: Iterable[Case], additive: bool) -> Iterator[tuple[Case, pd.DataFrame]]:
    for case in cases:
        yield case, authors_frame(case.leaves, case.dimensions, additive)


@dataclass
class Tally:
    """One set's scores: cx-agent, the authors' RiskLoc, our RiskLoc, their RobustSpot."""

    cx: Score = field(default_factory=Score)
    authors: Score = field(default_factory=Score)
    port: Score = field(default_factory=Score)
    robustspot: Score = field(default_factory=Score)
    same: int = 0
    failed: int = 0
    leaves: int = 0


def evaluate(
    pairs: Iterable[tuple[Case, pd.DataFrame]],
    additive: bool,
    theirs: AuthorsRiskLoc,
    robustspot: ModuleType | None = None,
) -> Tally:
    """Run the methods on every case; cx-agent and the authors' code side by side.

    cx-agent, their RiskLoc and (when given) their RobustSpot run in an order that
    rotates from case to case; each of their methods gets its own copy of the frame.
    """
    tally = Tally()
    for i, (case, frame) in enumerate(pairs):
        truth = set(case.truth)
        steps = {
            "cx": (tally.cx, partial(_cx_elements, case, additive)),
            "authors": (
                tally.authors,
                partial(_authors_run, theirs, frame.copy(), case.dimensions, additive),
            ),
        }
        if robustspot is not None:
            call = partial(_robustspot_run, robustspot, frame.copy(), case, additive, tally)
            steps["robustspot"] = (tally.robustspot, call)
        names = list(steps)
        order = names[i % len(names) :] + names[: i % len(names)]
        found = {name: _timed(*steps[name], truth) for name in order}
        port = _timed(tally.port, partial(_port_elements, case, additive), truth)
        tally.same += port == found["authors"]
        tally.leaves += len(case.leaves)
    return tally


def _timed(score: Score, call: Callable[[], set[str]], truth: set[str]) -> set[str]:
    start = time.perf_counter()
    found = call()
    score.add(found, truth, time.perf_counter() - start)
    return found


def _cx_elements(case: Case, additive: bool) -> set[str]:
    found = localize(case.leaves, case.dimensions, additive=additive)
    return {element_name(c.segment) for c in found.causes}


def _authors_run(
    theirs: AuthorsRiskLoc, frame: pd.DataFrame, dimensions: list[str], additive: bool
) -> set[str]:
    return authors_elements(theirs(frame, dimensions, derived=not additive))


def _robustspot_run(
    module: ModuleType, frame: pd.DataFrame, case: Case, additive: bool, tally: Tally
) -> set[str]:
    found = run_robustspot(module, frame, case.dimensions, additive)
    tally.failed += found is None
    return found or set()


def _port_elements(case: Case, additive: bool) -> set[str]:
    return {element_name(e) for e in riskloc_port(case.leaves, case.dimensions, additive=additive)}


HEADER = (
    "| set        | cases | leaves/case | F1 cx | P / R cx      | F1 authors | P / R authors "
    "| F1 port | same  | ms cx  | ms authors | ms port | cx/authors | port/authors "
    "| F1 RobustSpot | P / R RobustSpot | ms RobustSpot | cx/RobustSpot | failed |"
)


def row(name: str, tally: Tally) -> str:
    cx, authors, port = tally.cx, tally.authors, tally.port
    return (
        f"| {name:<10} | {cx.cases:>5} | {tally.leaves / max(cx.cases, 1):>11,.0f} "
        f"| {cx.f1:.3f} | {cx.precision_recall} | {authors.f1:>10.3f} "
        f"| {authors.precision_recall} | {port.f1:>7.3f} | {tally.same:>5} | {cx.ms:>6.1f} "
        f"| {authors.ms:>10.1f} | {port.ms:>7.1f} | {cx.ms / max(authors.ms, 1e-9):>10.3f} "
        f"| {port.ms / max(authors.ms, 1e-9):>12.3f} | {_robustspot_cells(tally)} |"
    )


def _robustspot_cells(tally: Tally) -> str:
    spot = tally.robustspot
    if not spot.cases:
        return "            - |               -  |             - |             - |      -"
    return (
        f"{spot.f1:>13.3f} | {spot.precision_recall:<16} | {spot.ms:>13.1f} "
        f"| {tally.cx.ms / max(spot.ms, 1e-9):>13.3f} | {tally.failed:>6}"
    )


Pairs = Iterator[tuple[Case, pd.DataFrame]]


def case_sets(data: Path, n: int | None) -> dict[str, tuple[Pairs, bool]]:
    """The sets of ``bench.rca`` (same loaders and seeds) and RS as the authors read it."""
    syn, big = n or 100, n or 10
    sets: dict[str, tuple[Pairs, bool]] = {
        "RS": (with_frames(rs_cases(data / "RS"), additive=False), False),
        "RS-theirs": (rs_their_reading(data / "RS"), False),
        "SYN-add": (with_frames(synthetic(1, syn), additive=True), True),
        "SYN-ratio": (with_frames(synthetic(2, syn, ratio=True), additive=False), False),
        "SYN-100k": (
            with_frames(
                synthetic(3, big, leaves=100_000, dimensions=(6, 6), values=(10, 20)),
                additive=True,
            ),
            True,
        ),
    }
    return {name: (islice(pairs, n), additive) for name, (pairs, additive) in sets.items()}


ROBUSTSPOT_SETS = ("RS", "RS-theirs")
"""The sets their RobustSpot runs on (see the module docstring for why not the others)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=None, help="at most N cases per set")
    args = parser.parse_args()
    source = os.environ.get(SOURCE_VARIABLE)
    if not source:
        print(HOW_TO_GET)
        return
    theirs = load_authors_riskloc(Path(source))
    spot = load_authors_robustspot(Path(source))
    data = Path(os.environ.get("CX_AGENT_BENCH_DATA", ROOT.parent / "shared" / "bench")) / "rca"
    print(HEADER)
    print("|" + "|".join("-" * len(c) for c in HEADER.split("|")[1:-1]) + "|")
    for name, (pairs, additive) in case_sets(data, args.cases).items():
        tally = evaluate(pairs, additive, theirs, spot if name in ROBUSTSPOT_SETS else None)
        print(row(name, tally), flush=True)
    print()
    print(f"authors: RiskLoc from {source}, published defaults. port: bench/riskloc_baseline.py.")
    print("same: cases where the port returns exactly the authors' elements.")
    print(f"RobustSpot: the authors' code from {source}, their defaults (k={K}).")


if __name__ == "__main__":
    main()
