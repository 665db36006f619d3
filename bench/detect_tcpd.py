"""Change points on the Turing Change Point Dataset (TCPD): cx-agent beside ruptures.

Run from the repository root:  /work/venv/bin/python -m bench.detect_tcpd
Data: ``../shared/bench/tcpd`` (or ``$CX_AGENT_BENCH_DATA/tcpd``).

Methods, each with one setting for every series, scored in the same run:

* ``cx-agent``: :func:`agent.detect.changepoint.change_points`, the function the
  change-point detector calls, with its default configuration (nothing tuned per series):
  the exact penalised segmentation (PELT's optimum) with cx-agent's level-or-trend cost
  and noise-scaled penalty;
* ``pelt`` / ``binseg``: ruptures ``Pelt`` / ``Binseg``, L2 cost, ``min_size=2``,
  ``jump=1``, penalty ``3 log n`` on the series scaled to mean 0 and variance 1;
* ``zero``: no change point at all.

Published figures (``published/default_scores_subset.json``, each R package's defaults)
are printed beside them. Scores are F1 with a margin of 5 and covering
(:mod:`bench._cpd_metrics`). Missing values are filled by linear interpolation over the
index, so detections keep the series' indexing. ``run_log`` has two dimensions, pace and
cumulative distance: only the first (pace) is used, as the distance is a running total.
Times are per series, as a ratio to ruptures PELT measured in the same run.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import ruptures as rpt

from agent.detect.changepoint import change_points
from bench._cpd_metrics import clean, covering, f1

REPO = Path(__file__).resolve().parents[1]
TARGET = {"f1": 0.75, "cover": 0.72}
PUBLISHED = ("binseg", "pelt", "bocpd", "zero")

Method = Callable[[np.ndarray], list[int]]


def data_dir() -> Path:
    root = os.environ.get("CX_AGENT_BENCH_DATA")
    return (Path(root) if root else REPO.parent / "shared" / "bench") / "tcpd"


def load_series(path: Path) -> np.ndarray:
    """The first dimension of a TCPD series, gaps filled by linear interpolation."""
    raw = json.loads(path.read_text())["series"][0]["raw"]
    values = np.array([np.nan if v is None else v for v in raw], dtype=float)
    missing = np.isnan(values)
    index = np.arange(len(values))
    values[missing] = np.interp(index[missing], index[~missing], values[~missing])
    return values


def ruptures_l2(algo: type[rpt.Pelt] | type[rpt.Binseg]) -> Method:
    def run(values: np.ndarray) -> list[int]:
        z = (values - values.mean()) / values.std()
        fitted = algo(model="l2", min_size=2, jump=1).fit(z)
        return fitted.predict(pen=3 * math.log(len(z)))[:-1]

    return run


METHODS: dict[str, Method] = {
    "cx-agent": change_points,
    "pelt": ruptures_l2(rpt.Pelt),
    "binseg": ruptures_l2(rpt.Binseg),
    "zero": lambda values: [],
}


def evaluate(values: np.ndarray, annotations: dict[str, list[int]]) -> dict[str, dict]:
    """Scores and seconds of every method on one series."""
    rows = {}
    for name, method in METHODS.items():
        start = time.perf_counter()
        found = clean(method(values), len(values))
        seconds = time.perf_counter() - start
        rows[name] = {
            "f1": f1(annotations, found),
            "cover": covering(annotations, found, len(values)),
            "seconds": seconds,
            "found": len(found),
        }
    return rows


def mean(values: list[float | None]) -> float:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else float("nan")


def fmt(value: float | None) -> str:
    return "    -" if value is None or math.isnan(value) else f"{value:5.3f}"


def table(metric: str, results: dict, published: dict) -> list[str]:
    ours = list(METHODS)
    head = f"{metric:<20}" + "".join(f"{m:>9}" for m in ours)
    head += "".join(f"{'pub ' + m:>12}" for m in PUBLISHED)
    lines = [head, "-" * len(head)]

    def row(label: str, names: list[str]) -> str:
        cells = [mean([results[s][m][metric] for s in names]) for m in ours]
        pub = [mean([published[metric][s][m] for s in names]) for m in PUBLISHED]
        return (
            f"{label:<20}"
            + "".join(f"{fmt(c):>9}" for c in cells)
            + "".join(f"{fmt(p):>12}" for p in pub)
        )

    for name in results:
        lines.append(row(name, [name]))
    lines.append("-" * len(head))
    without_qc = [s for s in results if not s.startswith("quality_control")]
    lines.append(row(f"mean, {len(without_qc)} (no QC)", without_qc))
    lines.append(row(f"mean, all {len(results)}", list(results)))
    return lines


def timing(results: dict) -> list[str]:
    """Seconds per series of each method over PELT's on the same series."""
    lines = ["time per series / ruptures PELT's (same run): median [min-max], total"]
    total_pelt = sum(r["pelt"]["seconds"] for r in results.values())
    for method in ("cx-agent", "binseg"):
        ratios = [r[method]["seconds"] / r["pelt"]["seconds"] for r in results.values()]
        total = sum(r[method]["seconds"] for r in results.values()) / total_pelt
        median = float(np.median(ratios))
        lines.append(
            f"  {method:<9} {median:.3f} [{min(ratios):.3f}-{max(ratios):.3f}], {total:.3f}"
        )
    return lines


def verdict(results: dict) -> list[str]:
    lines = []
    groups = {
        "all 24 series": list(results),
        "without quality_control_*": [s for s in results if not s.startswith("quality")],
    }
    for label, names in groups.items():
        got = {m: mean([results[s]["cx-agent"][m] for s in names]) for m in TARGET}
        met = all(got[m] >= TARGET[m] for m in TARGET)
        lines.append(
            f"target F1 >= {TARGET['f1']} and cover >= {TARGET['cover']} on {label}: "
            f"{'MET' if met else 'NOT met'} (F1 {got['f1']:.3f}, cover {got['cover']:.3f})"
        )
    return lines


def main() -> None:
    root = data_dir()
    annotations = json.loads((root / "annotations.json").read_text())
    published = json.loads((root / "published" / "default_scores_subset.json").read_text())
    results = {
        name: evaluate(load_series(root / "datasets" / f"{name}.json"), annotations[name])
        for name in sorted(annotations)
    }
    counts = ", ".join(f"{s} {r['cx-agent']['found']}" for s, r in results.items())
    blocks = [
        table("f1", results, published),
        table("cover", results, published),
        timing(results),
        verdict(results),
        [
            f"cx-agent change points per series: {counts}",
            "published means are over the series each method has (- = not run)",
        ],
    ]
    print("\n\n".join("\n".join(block) for block in blocks))


if __name__ == "__main__":
    main()
