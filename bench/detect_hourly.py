"""Anomalies in an hourly business KPI: cx-agent's alerts vs a rolling z-score.

Run from the repository root with the project's Python:

    python -m bench.detect_hourly [--seeds tune|judge]

Each seed generates an hourly in-app purchase rate with labelled anomalies
(``bench/_hourly_kpis.py``): purchases over sessions, hour-of-day and weekday
seasonality, sampling noise, trend and holidays. cx-agent sees the rate as a metric with
its numerator and denominator (as a ``ratio`` metric of metrics.yaml would give it) and
alerts as in ``bench.detect_nab``: one alert per episode outside the seasonal band
(``sensitivity: medium``, both directions). The rolling z-score sees the rate alone.
Both are scored the NAB way (``bench/nab_score.py``, standard profile), per anomaly kind
and in total. Tuning seeds 0-9 are the ones cx-agent's sub-daily band may be shaped on;
judging seeds 1000-1009 are only reported.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from agent.cube import MetricSeries
from bench._hourly_kpis import JUDGE_SEEDS, KINDS, TUNE_SEEDS, hourly_kpi
from bench.detect_nab import series_alerts, zscore_alerts
from bench.nab_score import FileScore, normalised, score_file

SEEDS = {"tune": TUNE_SEEDS, "judge": JUDGE_SEEDS}
DETECTORS = ("cx-agent", "rolling z-score")


def score_seed(seed: int) -> dict[tuple[str, str], FileScore]:
    """Each detector's score on one seed: overall (``all``) and per anomaly kind, where
    only the windows found count (false alarms belong to the series, not to a kind)."""
    kpi = hourly_kpi(seed)
    frame = kpi.frame.assign(judged=True)
    flags = {
        "cx-agent": series_alerts(MetricSeries(frame, additive=False, metric="purchase_rate")),
        "rolling z-score": zscore_alerts(kpi.frame["value"]),
    }
    stamps = pd.DatetimeIndex(frame.index)
    out = {}
    for detector, alerts in flags.items():
        out[(detector, "all")] = score_file(stamps, alerts, kpi.windows)
        for kind in KINDS:
            windows = [w for w, k in zip(kpi.windows, kpi.kinds, strict=True) if k == kind]
            out[(detector, kind)] = score_file(stamps, alerts, windows)
    return out


def run(seeds: range) -> dict[tuple[str, str], FileScore]:
    """Scores summed over ``seeds`` (2 processes)."""
    totals: dict[tuple[str, str], FileScore] = {}
    with ProcessPoolExecutor(max_workers=2) as pool:
        for scores in pool.map(score_seed, seeds):
            for key, score in scores.items():
                totals[key] = totals[key] + score if key in totals else score
    return totals


def table(totals: dict[tuple[str, str], FileScore]) -> str:
    head = f"{'':<16}" + "".join(f"{d:>28}" for d in DETECTORS)
    lines = [head, f"{'':<16}" + f"{'score  found/windows  FP':>28}" * len(DETECTORS)]
    for row in ("all", *KINDS):
        cells = ""
        for detector in DETECTORS:
            s = totals.get((detector, row), FileScore(0, 0, 0, 0, 0, 0))
            score = f"{normalised(s):.1f}" if row == "all" else ""
            false = f"{s.false_alarms}" if row == "all" else ""
            cells += f"{f'{score:>6} {s.hits:>6}/{s.hits + s.misses:<6} {false:>5}':>28}"
        lines.append(f"{'NAB score' if row == 'all' else row:<16}{cells}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="hourly KPI anomalies: cx-agent vs z-score")
    parser.add_argument("--seeds", choices=SEEDS, help="one set of seeds only (default both)")
    chosen = parser.parse_args().seeds
    print("Hourly purchase rate, NAB standard profile, normalised score (null 0, perfect 100)")
    for name, seeds in SEEDS.items():
        if chosen in (None, name):
            print(f"\n{name} seeds {seeds.start}-{seeds.stop - 1}")
            print(table(run(seeds)))


if __name__ == "__main__":
    main()
