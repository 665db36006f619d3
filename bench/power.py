"""Power benchmark: does cx-agent alert on incidents planted in warehouses nobody tuned it on?

    .venv/bin/python -m bench.power [--seeds tune|judge] [--quick] [--details]

A family of generated warehouses (``bench._power_gen``: random schemas, 1k-1M sessions
a day, weekly seasonality, holidays of the country, growth) with incidents CX teams
meet: a rate drop in a 1- or 2-dimension segment, a level shift of the total, an NPS
drop at one touchpoint, and 1-2-day spikes that should not page. Each warehouse's
metrics.yaml is the one a new user writes from the README. cx-agent replays the judged
range with ``backfill`` (``agent.pipeline.run.backfill_metric`` and the ``--json`` rows: the
same code as a run); the alerts are scored against the planted incidents
(``bench._power_score``). Also the "retailer" profile of issue 19's held-out check.

Seeds: ``tune`` (1000-1099) is for tuning detectors on; ``judge`` (2000-2099) is for
the figures quoted. Warehouses are cached in ``bench/.data/power`` (or
``CX_AGENT_POWER_DIR``) by kind, seed and generator version.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from agent.cli.summary import backfill_json
from agent.config import load_config
from agent.pipeline.run import backfill_metric, open_warehouse
from bench._power_gen import VERSION, read_truth, warehouse
from bench._power_report import family_lines, retailer_lines
from bench._power_score import Tally, score

SEEDS = {"tune": range(1000, 1100), "judge": range(2000, 2100)}
MODES = {"quick": (4, 1), "full": (30, 3)}
"""Generated warehouses and retailer histories per mode."""
ROOT = Path(__file__).resolve().parent / ".data" / "power"


def replay(job: tuple[str, int, str]) -> dict[str, Any]:
    """Build (or reuse) one warehouse and replay every metric over its judged range."""
    kind, seed, root = job
    home = warehouse(kind, seed, Path(root))
    truth = read_truth(home)
    path = home / "metrics.yaml"
    config = load_config(path)
    first, last = date.fromisoformat(truth["start"]), date.fromisoformat(truth["end"])
    started, cpu = time.perf_counter(), time.process_time()
    with open_warehouse(config, path) as source:
        results = [backfill_metric(config, name, first, last, source) for name in config.metrics]
    rows = backfill_json(results, first, last)
    return {
        "kind": kind,
        "seed": seed,
        "truth": truth,
        "alerts": rows["alerts"],
        "metrics": [m["metric"] for m in rows["metrics"]],
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
    }


def _jobs(seeds: range, families: int, retailers: int, root: Path) -> list[tuple[str, int, str]]:
    retailer_seeds = list(seeds)[-retailers:] if retailers else []
    return [("retailer", s, str(root)) for s in retailer_seeds] + [
        ("family", s, str(root)) for s in list(seeds)[:families]
    ]


def _header(args: argparse.Namespace, seeds: range, jobs: list[tuple[str, int, str]]) -> str:
    fam = [s for k, s, _ in jobs if k == "family"]
    ret = [s for k, s, _ in jobs if k == "retailer"]
    other = "judge" if args.seeds == "tune" else "tune"
    use = "tuning seeds: tune detectors here" if args.seeds == "tune" else "judging seeds: report"
    return (
        f"bench.power (generator v{VERSION}) on {args.seeds} seeds {seeds.start}-{seeds.stop - 1}"
        f" ({use}; the other range is {other} {SEEDS[other].start}-{SEEDS[other].stop - 1})\n"
        f"  generated warehouses: seeds {fam[0] if fam else '-'}..{fam[-1] if fam else '-'} "
        f"({len(fam)});  retailer histories: seeds {', '.join(map(str, ret)) or '-'}"
    )


def _summary(done: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in sorted(done, key=lambda r: (r["kind"], r["seed"])):
        t = r["truth"]
        dims = ", ".join(f"{k}:{v}" for k, v in t["dimensions"].items())
        store = "rows" if t["row_level"] else "daily table"
        lines.append(
            f"  {r['kind']:<8} {r['seed']} {t['country']} {t['sessions_a_day']:>9,} sessions/day "
            f"({store}); {dims}; {len(t['incidents'])} incidents, {len(r['alerts'])} alerts; "
            f"replay {r['seconds']:.0f}s ({r['cpu']:.0f}s CPU)"
        )
    return lines


def _details(done: list[dict[str, Any]], tallies: dict[tuple[str, int], Tally]) -> list[str]:
    lines = []
    for r in done:
        for o in tallies[r["kind"], r["seed"]].outcomes:
            i = o.incident
            seg = " & ".join(f"{k}={v}" for k, v in i["segment"].items()) or "total"
            how = "missed" if o.alert is None else f"+{o.delay}d {o.alert['kind']}"
            lines.append(
                f"  {r['seed']} {i['cls']:<13}{i['metric']:<20} {seg:<36} {i['onset']} "
                f"{(date.fromisoformat(i['end']) - date.fromisoformat(i['onset'])).days + 1:>2}d "
                f"share {i['share']:.3f} strength {i['strength']:5.1f} early "
                f"{i['early']:5.1f} peak {i['peak']:4.1f}: {how}"
            )
        lines += [
            f"  {r['seed']} false alert: {a['date']} {a['metric']} {a['segment']} {a['kind']} "
            f"({a['severity']})"
            for a in tallies[r["kind"], r["seed"]].false
        ]
    return lines


def _report(done: list[dict[str, Any]], details: bool) -> list[str]:
    tallies = {(r["kind"], r["seed"]): score(r["truth"], r["alerts"], r["metrics"]) for r in done}
    family = [tallies["family", r["seed"]] for r in done if r["kind"] == "family"]
    retail = [(r["seed"], tallies["retailer", r["seed"]]) for r in done if r["kind"] == "retailer"]
    out = ["", *_summary(done), ""]
    if family:
        out += ["Generated warehouses:", *family_lines(family), ""]
    if retail:
        out += ["Retailer profile (issue 19's held-out shape):", *retailer_lines(retail), ""]
    if details:
        out += ["Every incident:", *_details(done, tallies), ""]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.power", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", choices=sorted(SEEDS), default="judge")
    parser.add_argument("--quick", action="store_true", help="4 warehouses, 1 retailer history")
    parser.add_argument("--warehouses", type=int, help="generated warehouses (default by mode)")
    parser.add_argument("--retailers", type=int, help="retailer histories (default by mode)")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--details", action="store_true", help="every incident and false alert")
    parser.add_argument("--save", type=Path, help="also write the replays' alerts to this file")
    parser.add_argument("--load", type=Path, help="score replays saved by --save (no replay)")
    args = parser.parse_args(argv)
    families, retailers = MODES["quick" if args.quick else "full"]
    families = families if args.warehouses is None else args.warehouses
    retailers = retailers if args.retailers is None else args.retailers
    seeds = SEEDS[args.seeds]
    root = Path(os.environ.get("CX_AGENT_POWER_DIR", ROOT))
    jobs = _jobs(seeds, families, retailers, root)
    started = time.perf_counter()
    if args.load:
        saved = json.loads(args.load.read_text(encoding="utf-8"))
        header, done = saved["header"], saved["replays"]
        print(f"{header}\n  (replays loaded from {args.load})")
    else:
        os.nice(10)  # a long benchmark on a shared machine
        header = _header(args, seeds, jobs)
        print(header, flush=True)
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            done = list(pool.map(replay, jobs))
    if args.save:
        args.save.write_text(json.dumps({"header": header, "replays": done}), encoding="utf-8")
    out = _report(done, args.details)
    wall, cpu = time.perf_counter() - started, sum(r["cpu"] for r in done)
    out.append(
        f"Wall time {wall:.0f}s with {args.jobs} processes, replays {cpu:.0f}s CPU "
        f"(warehouses cached in {root})."
    )
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
