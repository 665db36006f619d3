"""Anomaly detection on the Numenta Anomaly Benchmark: cx-agent's alerts vs a rolling z-score.

Run from the repository root with the project's Python:

    python -m bench.detect_nab

Data are read from ``../shared/bench/nab`` (override with ``CX_AGENT_BENCH_DATA``, which
points at the folder holding ``nab/``). Each file becomes one additive metric series
(the CSV's value per timestamp, every row judged) and is replayed row by row:

* **cx-agent** alerts where the anomaly detector (``sensitivity: medium``, both
  directions) would report a finding: the value is outside the seasonal band, which is
  built for every row from earlier rows only. As a user sees it (the default
  ``alert:`` policy), out-of-band rows are one episode, hence one alert at its first
  row, until ``recover_after`` (3) rows in the band close it.
* **rolling z-score** alerts where the value is more than 3 standard deviations from
  the mean of the previous ``Z_WINDOW`` rows (at least ``Z_MIN`` of them), with the
  same episodes.

Both emit 0/1 alerts with their default settings: no threshold is tuned on the data.
The files are split in two fixed halves (:func:`half_of`): the **tuning** half is the one
cx-agent's sub-daily band may be shaped on, the **judging** half is only reported. Each
half gets its own table; ``--half tune|judge`` prints one. A table gives the
standard-profile NAB score (``bench/nab_score.py``) per category
and in total, the windows found, the false alarms, and the time each needed, as a
ratio measured side by side in this run (files are spread over two processes; each
file's detectors run one after the other in the same process).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from agent.cube import MetricSeries
from agent.detect.bands import seasonal_band
from agent.detect.episodes import AlertPolicy
from bench.nab_score import FileScore, normalised, score_file

REPO = Path(__file__).resolve().parent.parent
Z_WINDOW = 6400
"""Rows in the z-score's window (NAB's own windowed Gaussian uses 6400)."""
Z_MIN = 30
Z_LIMIT = 3.0
RECOVER_AFTER = AlertPolicy().recover_after
"""Quiet rows that close an episode: cx-agent's default alert policy."""

Alerts = Callable[[pd.Series], np.ndarray]


def data_dir() -> Path:
    return Path(os.environ.get("CX_AGENT_BENCH_DATA", REPO.parent / "shared" / "bench")) / "nab"


def episode_starts(flags: np.ndarray, recover_after: int = RECOVER_AFTER) -> np.ndarray:
    """True where an episode opens: a flagged row after ``recover_after`` quiet rows."""
    starts = np.zeros(len(flags), dtype=bool)
    quiet = recover_after
    for row, flagged in enumerate(np.asarray(flags, dtype=bool)):
        starts[row] = flagged and quiet >= recover_after
        quiet = 0 if flagged else quiet + 1
    return starts


HALVES = {"tune": "even", "judge": "odd"}


def half_of(name: str) -> str:
    """``tune`` or ``judge``: the first byte of sha256("cx-agent" + file name), even or odd."""
    return "tune" if hashlib.sha256(f"cx-agent{name}".encode()).digest()[0] % 2 == 0 else "judge"


def series_alerts(series: MetricSeries) -> np.ndarray:
    """Rows where cx-agent's anomaly detector (medium, both directions) opens an episode."""
    band = seasonal_band(series, "medium")
    outside = (series.value > band["upper"]) | (series.value < band["lower"])
    return episode_starts(outside.to_numpy())


def cx_agent_alerts(values: pd.Series) -> np.ndarray:
    """:func:`series_alerts` of ``values`` as one additive metric."""
    frame = pd.DataFrame({"num": values, "den": 1.0, "value": values, "judged": True})
    return series_alerts(MetricSeries(frame, additive=True, metric="nab"))


def zscore_alerts(values: pd.Series) -> np.ndarray:
    """Rows more than Z_LIMIT trailing standard deviations from the trailing mean."""
    past = values.shift(1).rolling(Z_WINDOW, min_periods=Z_MIN)
    z = (values - past.mean()) / past.std()
    return episode_starts((z.abs() > Z_LIMIT).to_numpy())


def read(path: Path) -> pd.Series:
    frame = pd.read_csv(path, parse_dates=["timestamp"])
    return pd.Series(frame["value"].to_numpy(dtype=float), index=frame["timestamp"])


DETECTORS: dict[str, Alerts] = {"cx-agent": cx_agent_alerts, "rolling z-score": zscore_alerts}


def score_one(name: str) -> dict[str, tuple[FileScore, float]]:
    """Each detector's score on one file and the seconds it took."""
    root = data_dir()
    windows = json.loads((root / "labels" / "combined_windows.json").read_text())[name]
    values = read(root / "data" / name)
    out = {}
    for detector, alerts in DETECTORS.items():
        start = time.perf_counter()
        flags = alerts(values)
        out[detector] = (score_file(values.index, flags, windows), time.perf_counter() - start)
    return out


def run(half: str) -> tuple[dict[tuple[str, str], FileScore], dict[str, float]]:
    """Score of every (detector, category) of one half and seconds spent per detector
    (2 processes)."""
    root = data_dir()
    labels = json.loads((root / "labels" / "combined_windows.json").read_text())
    names = sorted(n for n in labels if (root / "data" / n).exists() and half_of(n) == half)
    scores: dict[tuple[str, str], FileScore] = {}
    seconds = dict.fromkeys(DETECTORS, 0.0)
    with ProcessPoolExecutor(max_workers=2) as pool:
        for name, result in zip(names, pool.map(score_one, names), strict=True):
            for detector, (score, spent) in result.items():
                key = (detector, name.split("/")[0])
                scores[key] = scores[key] + score if key in scores else score
                seconds[detector] += spent
    return scores, seconds


def table(scores: dict[tuple[str, str], FileScore], seconds: dict[str, float]) -> str:
    detectors = list(seconds)
    categories = sorted({c for _, c in scores})
    head = f"{'category':<24}" + "".join(f"{d:>30}" for d in detectors)
    lines = [head, f"{'':<24}" + f"{'score  found/windows  FP':>30}" * len(detectors)]
    for category in [*categories, "total"]:
        row = f"{category:<24}"
        for detector in detectors:
            parts = [
                s for (d, c), s in scores.items() if d == detector and category in (c, "total")
            ]
            s = sum(parts[1:], parts[0])
            score = "n/a" if s.hits + s.misses == 0 else f"{normalised(s):.1f}"
            cell = f"{score:>6} {s.hits:>6}/{s.hits + s.misses:<6} {s.false_alarms:>5}"
            row += f"{cell:>30}"
        lines.append(row)
    base = seconds[detectors[-1]]
    lines.append(
        "time ratio (vs last column)".ljust(24)
        + "".join(f"{seconds[d] / base:>30.1f}" for d in detectors)
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="NAB score of cx-agent beside a rolling z-score")
    parser.add_argument("--half", choices=HALVES, help="one half only (default both)")
    half = parser.parse_args().half
    print("NAB standard profile, normalised score (null 0, perfect 100)")
    for name, parity in HALVES.items():
        if half in (None, name):
            print(f"\n{name} half: files whose sha256('cx-agent' + name) has an {parity} 1st byte")
            print(table(*run(name)))
    print("Published, full 58-file corpus, threshold tuned: HTM ~70, Windowed Gaussian 39.6")


if __name__ == "__main__":
    main()
