"""What watching segments costs a daily run, side by side with not watching them.

Run from the repository root: ``.venv/bin/python -m bench.watch_cost``.

A daily run judges its period after replaying the weeks before it (the episode state),
so a watched segment is judged about 35 times a run. For the demo's conversion (4
dimensions, ``min_volume: 500``) and the conversion of a ``bench.power`` retailer
history (4 dimensions, 4 x 12 x 4 x 6 values, every segment watched), one daily run's
detection (the warehouse query, then every period the run replays, without reports)
is timed with ``watch_segments: true`` and with it off, ``REPEATS`` times in turns so
both see the same machine load. The table prints the segments watched, median seconds
and the ratio on / off. The warehouses are generated (``agent.sources.demo``,
``bench._power_gen``; ``CX_AGENT_POWER_DIR`` reuses bench.power's cache), so no bench
data folder is needed.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from agent.config import load_config
from agent.pipeline.metric_run import MetricJob
from agent.pipeline.run import open_warehouse
from agent.sources.demo import generate
from bench._power_gen import read_truth, warehouse

REPO = Path(__file__).resolve().parents[1]
END = date(2026, 11, 20)
CUSTOMERS = 20_000
RETAILER_SEED = 1099
"""A tune seed of bench.power (its retailer histories take the last seeds of a range)."""
REPEATS = 3
METRIC = "conversion"


def _demo(root: Path) -> tuple[Path, date]:
    home = root / "demo"
    (home / "demo").mkdir(parents=True)
    shutil.copy(REPO / "metrics.yaml", home / "metrics.yaml")
    generate(home / "demo" / "warehouse.duckdb", end=END, customers=CUSTOMERS, days=210)
    return home, END


def _retailer(root: Path) -> tuple[Path, date]:
    cache = Path(os.environ.get("CX_AGENT_POWER_DIR", root / "power"))
    home = warehouse("retailer", RETAILER_SEED, cache)
    return home, date.fromisoformat(read_truth(home)["end"])


def _unwatched(home: Path) -> Path:
    """A copy of ``home``'s metrics.yaml with ``watch_segments`` off, beside it."""
    text = (home / "metrics.yaml").read_text(encoding="utf-8")
    path = home / "unwatched.yaml"
    path.write_text(text.replace("watch_segments: true", "watch_segments: false"))
    return path


def _run(path: Path, day: date) -> tuple[float, int]:
    """Seconds of one daily run's detection of METRIC, and the segments it watched."""
    config = load_config(path)
    started = time.perf_counter()
    with open_warehouse(config, path) as source:
        job = MetricJob.fetch(config, METRIC, source, day, day)
        list(job.replay(day, day))
    seconds = time.perf_counter() - started
    watched = job.segments
    count = len(getattr(watched, "segments", watched) or ())
    return seconds, count


def main() -> None:
    print(f"{'warehouse':<10} {'segments':>9} {'watched s':>10} {'unwatched s':>12} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in (("demo", _demo), ("retailer", _retailer)):
            home, day = build(Path(tmp))
            paths = {"on": home / "metrics.yaml", "off": _unwatched(home)}
            _run(paths["on"], day)  # warm the imports and the warehouse's files
            times: dict[str, list[float]] = {"on": [], "off": []}
            count = 0
            for _ in range(REPEATS):
                for key, path in paths.items():
                    seconds, watched = _run(path, day)
                    times[key].append(seconds)
                    count = max(count, watched)
            on, off = (statistics.median(times[k]) for k in ("on", "off"))
            print(f"{name:<10} {count:>9} {on:>10.2f} {off:>12.2f} {on / off:>6.2f}")


if __name__ == "__main__":
    main()
