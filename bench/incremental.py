"""Daily run time with 90 and with 720 days of history, side by side.

Run from the repository root: ``.venv/bin/python -m bench.incremental``.

Two demo warehouses with the same customers and the same last day differ only in how
many days of history they hold (90 and 720). For each, one run of yesterday fills the
state store as the previous day's run would, then the daily run of the last day is
timed ``REPEATS`` times, the two histories taking turns so that both see the same
machine load. The daily run is ``cx-agent run``'s path: every metric of the repository's
metrics.yaml, its reports, and its record in the store. The same is timed without a
store ("no store": every period read from the warehouse, nothing recorded) for
comparison. The table prints median
seconds and the ratio 720 / 90 days; the target is a ratio of at most 1.3. The data is
generated (``agent.sources.demo``), so no bench data folder is needed.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from agent.config import Config, load_config
from agent.pipeline.run import Workspace, open_warehouse, run_in
from agent.sources.demo import generate
from agent.store import Store, open_store

REPO = Path(__file__).resolve().parents[1]
END = date(2026, 11, 20)
HISTORIES = (90, 720)
CUSTOMERS = 20_000
REPEATS = 3
TARGET = 1.3


def _home(root: Path, days: int) -> Path:
    home = root / f"h{days}"
    (home / "demo").mkdir(parents=True)
    shutil.copy(REPO / "metrics.yaml", home / "metrics.yaml")
    generate(home / "demo" / "warehouse.duckdb", end=END, customers=CUSTOMERS, days=days)
    return home


def _daily_run(config: Config, home: Path, as_of: date, store: Store | None) -> float:
    """Seconds of one daily run of every metric (``cx-agent run --as-of``)."""
    started = time.perf_counter()
    with open_warehouse(config, home / "metrics.yaml") as source:
        workspace = Workspace(config, source, as_of, as_of, store)
        for name in config.metrics:
            run_in(workspace, name, home / "reports")
    return time.perf_counter() - started


def _rows(home: Path) -> int:
    with duckdb.connect(str(home / "demo" / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("SELECT count(*) FROM events").fetchone()[0]  # type: ignore[index]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        homes = {days: _home(Path(tmp), days) for days in HISTORIES}
        configs = {days: load_config(home / "metrics.yaml") for days, home in homes.items()}
        stores = {d: open_store(configs[d].store, base_dir=homes[d]) for d in HISTORIES}
        for days in HISTORIES:  # the previous day's run: fills the stored cube
            _daily_run(configs[days], homes[days], END - timedelta(days=1), stores[days])
        times: dict[tuple[int, str], list[float]] = {}
        for _ in range(REPEATS):
            for days in HISTORIES:
                for mode, store in (("incremental", stores[days]), ("no store", None)):
                    seconds = _daily_run(configs[days], homes[days], END, store)
                    times.setdefault((days, mode), []).append(seconds)
        _print(times, {days: _rows(home) for days, home in homes.items()})


def _print(times: dict[tuple[int, str], list[float]], rows: dict[int, int]) -> None:
    median = {key: statistics.median(values) for key, values in times.items()}
    print(
        f"Daily run of every metric in metrics.yaml, {CUSTOMERS:,} customers, median of {REPEATS}"
    )
    print()
    print(f"| history | event rows | {'incremental (s)':>15} | {'no store (s)':>13} |")
    print("|---|---:|---:|---:|")
    for days in HISTORIES:
        inc, full = median[(days, "incremental")], median[(days, "no store")]
        print(f"| {days} days | {rows[days]:,} | {inc:15.2f} | {full:13.2f} |")
    short, long = HISTORIES
    for mode in ("incremental", "no store"):
        ratio = median[(long, mode)] / median[(short, mode)]
        verdict = "meets" if ratio <= TARGET else "misses"
        print(f"{mode}: {long} / {short} days = {ratio:.2f} ({verdict} the target ≤ {TARGET})")


if __name__ == "__main__":
    main()
