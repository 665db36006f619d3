"""Scale benchmark: every demo metric's ``run --once`` on DuckDB warehouses up to 100M events.

Run from the repository root with the project's Python:

    python -m bench.scale                      # 10M, 50M and 100M events
    python -m bench.scale --sizes 1M,10M       # a quick try
    python -m bench.scale --metric nps         # some metrics only (repeatable)

Warehouses have the demo schema (``bench/_scale_data.py``), are generated inside DuckDB
SQL on first use and cached under ``CX_AGENT_SCALE_DIR`` (default ``bench/.data/``,
about 10 bytes per event: 1 GB at 100M). For each size, in one run:

* ``scan`` — the reference full scan ``select count(*), sum(amount) from events`` through
  the DuckDB source's own connection settings, best of 3, in a subprocess;
* once, two yardsticks in scans: the same scan through the demo view the metrics read
  (:data:`VIEW_SCAN`: events joined with customers, what any query reading the whole
  view costs at least), and the hand-written ``GROUP BY`` of that view by day and four
  dimensions (:data:`GROUP_BY`): what any SQL computing a daily ratio cube costs at
  least, the yardstick of the ratio metrics' first runs;
* per metric of the demo ``metrics.yaml``, ``cx-agent run --once --metric NAME`` in
  subprocesses on a copy of the file pointing at the size's warehouse, sharing one empty
  state store: ``first`` judges the day before the last one (nothing stored yet: the
  whole history is read), ``daily`` then judges the last day, as the scheduler does
  each morning (periods past the metric's ``mutable:`` window come from the store).
  The daily run is made three times and its fastest cube kept, as the scan keeps its
  best of 3 (with the highest peak RSS of the three); the first run, which fills the
  store, happens once.
  Each subprocess times the warehouse queries it makes (``cube``: the metric's cube;
  ``other``: data bounds and the cubes of related metrics); the parent measures its
  wall time (``run``); the subprocess reports its own peak RSS (``VmHWM``: the
  ``wait4`` figure would include the parent's, which a child inherits when it starts).

``cube/scan`` is the metric's cube time over the scan time, measured side by side;
the target is ≤ 2 (≤ 4 for the cohort kinds returning, retention and churn). A last
table gives cube seconds per million events for each size: flat means linear.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "metrics.yaml"
COHORT = frozenset({"returning", "retention", "churn"})
SCAN = "select count(*), sum(amount) from events"
GROUP_BY = (
    "select date_trunc('day', event_time), channel, device, region, tier, count(*) "
    "from customer_events group by all"
)
"""The simplest query giving a daily cube by four dimensions: a floor for the ratio kinds."""
VIEW_SCAN = "select count(*), sum(amount) from customer_events"
"""The reference scan through the demo view: the join with customers every metric pays."""
YARDSTICKS = {
    "the scan through the demo view customer_events": VIEW_SCAN,
    "hand-written GROUP BY (day x 4 dimensions)": GROUP_BY,
}


def _parse_size(text: str) -> int:
    units = {"K": 1_000, "M": 1_000_000, "B": 1_000_000_000}
    text = text.strip().upper()
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def _label(events: int) -> str:
    return f"{events / 1e6:g}M"


def _data_dir() -> Path:
    return Path(os.environ.get("CX_AGENT_SCALE_DIR", ROOT / "bench" / ".data"))


def _warehouse(events: int) -> tuple[Path, float | None]:
    """The cached warehouse of ``events`` events, generated if missing (and its time)."""
    from bench._scale_data import generate_scaled

    path = _data_dir() / f"events-{_label(events)}.duckdb"
    if path.is_file():
        return path, None
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    generate_scaled(path, events)
    return path, time.perf_counter() - start


def _config_for(warehouse: Path, work: Path) -> Path:
    """A copy of the demo metrics.yaml reading ``warehouse``, writing into ``work``."""
    doc = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    doc["warehouse"] = f"duckdb:///{warehouse.resolve()}"
    doc["reports"] = {"dir": str(work / "reports")}
    doc["store"] = f"sqlite:///{work / 'state.db'}"
    path = work / "metrics.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Child:
    """What a worker subprocess reported, with its wall time and peak RSS."""

    report: dict[str, float]
    seconds: float

    @property
    def peak_mb(self) -> float:
        return self.report["peak_mb"]


def _child(args: list[str]) -> Child:
    """Run ``python -m bench.scale ARGS``; its last stdout line is a JSON report."""
    cmd = [sys.executable, "-m", "bench.scale", *args]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    proc.wait()
    seconds = time.perf_counter() - start
    lines = out.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out}")
    return Child(json.loads(lines[-1]), seconds)


def _peak_mb() -> float:
    """This process's peak RSS since it started: Linux's ``VmHWM`` (nan elsewhere).

    Not ``ru_maxrss``: on Linux it keeps the high-water mark of the process that
    spawned this one, and the parent grows while it generates a warehouse.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return float("nan")
    kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kb) / 1024


def _query_worker(warehouse: str, sql: str) -> dict[str, float]:
    """Best of 3 of ``sql`` through the DuckDB source's own connection settings."""
    from agent.sources.duckdb import DuckDBSource

    with DuckDBSource(warehouse) as source:
        con = source.connection()
        times = []
        for _ in range(3):
            start = time.perf_counter()
            con.raw_sql(sql).fetchall()
            times.append(time.perf_counter() - start)
    return {"seconds": min(times)}


def _run_worker(config: str, metric: str, as_of: str) -> dict[str, float]:
    """``cx-agent run --once`` in this process, its warehouse queries timed."""
    from agent import cli, sources
    from agent.sources.duckdb import DuckDBSource

    times: dict[str, float] = {"cube": 0.0, "other": 0.0, "queries": 0}

    def record(name: str, start: float) -> None:
        times["cube" if name == metric else "other"] += time.perf_counter() - start
        times["queries"] += 1

    class Timed(DuckDBSource):
        def fetch_cube(self, query):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return super().fetch_cube(query)
            finally:
                record(query.metric, start)

        def data_bounds(self, source, since=None):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return super().data_bounds(source, since)
            finally:
                record("(data bounds)", start)

    sources.SOURCES["duckdb"] = Timed
    sys.argv = ["cx-agent", "run", "--once", "-c", config, "-m", metric, "--as-of", as_of]
    try:
        cli.main()
    except SystemExit as exc:  # 0 nothing found, 1 warning, 2 critical
        if exc.code not in (0, 1, 2):
            raise
    return times


RUNS = {"first": 1, "daily": 3}
"""How many times each run is made (a first run fills the store: it can only happen once)."""


def _fastest(children: list[Child]) -> Child:
    """The run whose cube took least time, with the highest peak RSS of them all."""
    best = min(children, key=lambda child: child.report["cube"])
    return Child(best.report | {"peak_mb": max(child.peak_mb for child in children)}, best.seconds)


@dataclass(frozen=True)
class Row:
    size: int
    metric: str
    kind: str
    run: str
    """``first`` (empty store) or ``daily`` (the next day, on the store the first left)."""
    scan: float
    child: Child | None
    """None when the run failed (its output went to stderr)."""


def _measure(events: int, metrics: list[str], work: Path) -> list[Row]:
    from bench._scale_data import END

    warehouse, made = _warehouse(events)
    note = f"generated in {made:.0f} s" if made is not None else "cached"
    print(f"{_label(events)} events: {warehouse} ({note})", file=sys.stderr, flush=True)
    kinds = {n: m["kind"] for n, m in yaml.safe_load(CONFIG.read_text())["metrics"].items()}
    scan = _child(["--worker-query", str(warehouse), SCAN]).report["seconds"]
    for what, sql in YARDSTICKS.items():
        seconds = _child(["--worker-query", str(warehouse), sql]).report["seconds"]
        print(
            f"{_label(events):>7} {what}: {seconds:.2f} s = {seconds / scan:.1f} scans", flush=True
        )
    rows = []
    for name in metrics:
        config = _config_for(warehouse, Path(tempfile.mkdtemp(prefix=f"{name}-", dir=work)))
        for (run, repeats), day in zip(RUNS.items(), (END - timedelta(days=1), END), strict=True):
            scan = _child(["--worker-query", str(warehouse), SCAN]).report["seconds"]
            args = ["--worker-run", str(config), name, day.isoformat()]
            try:
                child: Child | None = _fastest([_child(args) for _ in range(repeats)])
            except RuntimeError as exc:  # one broken metric must not hide the others
                print(exc, file=sys.stderr, flush=True)
                child = None
            rows.append(Row(events, name, kinds[name], run, scan, child))
            _line(rows[-1])
    return rows


def _target(kind: str) -> float:
    return 4.0 if kind in COHORT else 2.0


def _header() -> None:
    head = f"{'events':>7} {'metric':<20} {'kind':<9} {'run':<5} {'scan s':>7} {'cube s':>7} "
    head += f"{'cube/scan':>9} {'target':>6} {'other s':>7} {'queries':>7} {'run s':>6} "
    head += f"{'peak MB':>7}"
    print(head)
    print("-" * len(head), flush=True)


def _line(r: Row) -> None:
    """One row of the table, printed as soon as it is measured (100M takes a while)."""
    lead = f"{_label(r.size):>7} {r.metric:<20} {r.kind:<9} {r.run:<5} {r.scan:7.3f}"
    if r.child is None:
        print(f"{lead}  run failed", flush=True)
        return
    t, ratio = r.child.report, r.child.report["cube"] / r.scan
    print(
        f"{lead} {t['cube']:7.2f} {ratio:9.1f} {'≤' + format(_target(r.kind), 'g'):>6} "
        f"{t['other']:7.2f} {int(t['queries']):7d} {r.child.seconds:6.1f} "
        f"{r.child.peak_mb:7.0f}",
        flush=True,
    )


def _linearity(rows: list[Row]) -> None:
    sizes = sorted({r.size for r in rows})
    print("\ncube seconds per million events (flat = linear in events)")
    print(f"{'metric':<20} {'run':<5} " + " ".join(f"{_label(s):>8}" for s in sizes))
    for metric, run in dict.fromkeys((r.metric, r.run) for r in rows):
        per = {
            r.size: r.child.report["cube"] / (r.size / 1e6)
            for r in rows
            if (r.metric, r.run) == (metric, run) and r.child
        }
        cells = " ".join(f"{per.get(s, float('nan')):8.3f}" for s in sizes)
        print(f"{metric:<20} {run:<5} {cells}")
    scans = {r.size: r.scan / (r.size / 1e6) for r in rows}
    print(f"{'(scan)':<26} " + " ".join(f"{scans[s]:8.4f}" for s in sizes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10M,50M,100M", help="events per warehouse")
    parser.add_argument("--metric", action="append", help="only this metric (repeatable)")
    parser.add_argument("--worker-query", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--worker-run", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_query or args.worker_run:
        report = _query_worker(*args.worker_query) if args.worker_query else None
        report = report or _run_worker(*args.worker_run)
        print(json.dumps(report | {"peak_mb": _peak_mb()}))
        return
    metrics = args.metric or list(yaml.safe_load(CONFIG.read_text())["metrics"])
    rows: list[Row] = []
    _header()
    with tempfile.TemporaryDirectory(prefix="cx-scale-") as tmp:
        for size in (_parse_size(s) for s in args.sizes.split(",")):
            rows += _measure(size, metrics, Path(tmp))
    _linearity(rows)


if __name__ == "__main__":
    main()
