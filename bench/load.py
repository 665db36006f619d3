"""Load benchmark: one ``run --once`` over 200 metrics x 6 dimensions, its memory and time.

Run from the repository root with the project's Python:

    python -m bench.load                          # this checkout, 200 metrics
    python -m bench.load --checkout /tmp/old      # another checkout of cx-agent (before/after)
    python -m bench.load --metrics 40             # a quick try

The demo warehouse (``agent.sources.demo.generate``, 50,000 customers, last day
:data:`END`) is generated once and cached under ``CX_AGENT_LOAD_DIR`` (default
``bench/.data/load/``). :func:`metrics_yaml` writes a metrics.yaml of ``--metrics``
metrics, each sliced by the six dimensions of the demo's ``customer_events`` view, as a
team with many KPIs would write it: every kind (count, sum, ratio, returning, churn,
retention, mix), day and week grains, sources filtered by channel, tier, region,
device or acquisition, detectors of every sensitivity, watched segments on the rates.

``cx-agent run --once --as-of END`` then runs over all of them in one subprocess (the
``--checkout``'s code, this Python), on an empty state store: the first run of a
team's config, which reads every cube whole. The parent reads the child's stdout as
it goes: each metric prints one line when it is done, and at that moment the parent
reads the child's ``VmRSS`` from ``/proc``; a thread samples ``VmHWM`` (peak RSS) every
0.2 s until the child exits. The table gives the RSS after metrics 1, 20, 50, 100, 200,
the peak, and the mean wall time per metric over the first 20 and the last 20 (metric
1's time includes the start of the command).

Targets (issue 20): peak RSS < 1 GB, RSS after the last metric within 10% of that
after metric 20, time per metric flat.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
END = date(2025, 11, 30)
"""Last day of the generated warehouse; the run judges the period complete on it."""
CUSTOMERS = 50_000
DIMENSIONS = ["channel", "device", "region", "tier", "acquisition", "event_type"]
CHECKPOINTS = (1, 20, 50, 100, 200)
WINDOW = 20
"""Metrics averaged at the start and at the end of the run for the time per metric."""

VISIT = "CASE WHEN event_type = 'visit' THEN 1 ELSE 0 END"
PURCHASE = "CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END"
SUPPORT = "CASE WHEN event_type = 'support' THEN 1 ELSE 0 END"
SPEND = "CASE WHEN event_type = 'purchase' THEN amount ELSE 0 END"

SOURCES: dict[str, str | None] = {
    "all": None,
    "web": "channel = 'web'",
    "app": "channel = 'app'",
    "store": "channel = 'store'",
    "premium": "tier = 'premium'",
    "loyal": "tier IN ('premium', 'gold')",
    "capital": "region IN ('Seoul', 'Gyeonggi', 'Incheon')",
    "south": "region IN ('Busan', 'Daegu', 'Ulsan', 'Gwangju')",
    "mobile": "device IN ('android', 'ios')",
    "social": "acquisition = 'social'",
}
"""Sources of the generated config: the demo view, whole or filtered as teams slice it."""

KINDS: dict[str, dict[str, Any]] = {
    "visits": {"kind": "count", "expr": VISIT},
    "events": {"kind": "count"},
    "purchases": {"kind": "count", "expr": PURCHASE},
    "support_contacts": {"kind": "count", "expr": SUPPORT, "good": "down"},
    "revenue": {"kind": "sum", "expr": SPEND, "unit": "currency"},
    "conversion": {
        "kind": "ratio",
        "numerator": PURCHASE,
        "denominator": VISIT,
        "unit": "percent",
        "watch_segments": True,
        "alert": {"min_volume": 200},
    },
    "order_value": {"kind": "ratio", "numerator": SPEND, "denominator": PURCHASE},
    "support_rate": {
        "kind": "ratio",
        "numerator": SUPPORT,
        "denominator": PURCHASE,
        "unit": "percent",
        "good": "down",
    },
    "revisit": {"kind": "returning", "lookback": "7d", "grain": "week"},
    "daily_revisit": {"kind": "returning", "lookback": "7d"},
    "churn": {"kind": "churn", "window": "14d", "good": "down"},
    "monthly_churn": {"kind": "churn", "window": "28d", "grain": "week", "good": "down"},
    "retention": {"kind": "retention", "window": "7d", "grain": "week"},
    "premium_share": {"kind": "mix", "category": "tier = 'premium'"},
    "app_share": {"kind": "mix", "category": "channel = 'app'", "grain": "week"},
    "weekly_revenue": {"kind": "sum", "expr": SPEND, "grain": "week", "unit": "currency"},
    "weekly_visits": {"kind": "count", "expr": VISIT, "grain": "week"},
    "big_baskets": {"kind": "count", "expr": "CASE WHEN amount > 100000 THEN 1 ELSE 0 END"},
    "buyers_rate": {
        "kind": "ratio",
        "numerator": PURCHASE,
        "denominator": "1",
        "unit": "percent",
        "watch_segments": True,
    },
    "weekly_conversion": {
        "kind": "ratio",
        "numerator": PURCHASE,
        "denominator": VISIT,
        "grain": "week",
        "unit": "percent",
    },
}
"""What each metric computes, before its source and detectors are chosen."""

SENSITIVITY = ("low", "medium", "high")
LONG_VALUE = "J" * 100_000
"""``--long-value``: the name the region Jeju gets (100 KB), as a broken load might write."""


def metrics_yaml(warehouse: Path, count: int) -> dict[str, Any]:
    """A metrics.yaml document of ``count`` metrics over ``warehouse`` (see the module doc)."""
    metrics: dict[str, Any] = {}
    for i, (source, (what, kind)) in enumerate(itertools.product(SOURCES, KINDS.items())):
        if len(metrics) == count:
            break
        detect: dict[str, Any] = {"anomaly": {"sensitivity": SENSITIVITY[i % 3]}}
        if i % 2 == 0:
            detect["change_point"] = {}
        metrics[f"{what}_{source}"] = {
            "title": f"{what.replace('_', ' ').capitalize()} ({source})",
            "source": source,
            **kind,
            "dimensions": DIMENSIONS,
            "detect": detect,
            **({"notify": ["log"]} if i % 4 == 0 else {}),
        }
    if len(metrics) < count:
        raise ValueError(f"--metrics {count}: at most {len(SOURCES) * len(KINDS)} metrics")
    base = {"table": "customer_events", "time": "event_time", "entity": "customer_id"}
    return {
        "version": 1,
        "timezone": "Asia/Seoul",
        "country": "KR",
        "warehouse": f"duckdb:///{warehouse.resolve()}",
        "reports": {"dir": "reports"},
        "store": "sqlite:///state/cx-agent.db",
        "events": {"table": "known_events"},
        "channels": {"log": {"type": "files", "dir": "outbox", "min_severity": "warning"}},
        "sources": {
            name: {**base, **({"filter": where} if where else {})}
            for name, where in SOURCES.items()
        },
        "metrics": metrics,
    }


def _data_dir() -> Path:
    return Path(os.environ.get("CX_AGENT_LOAD_DIR", ROOT / "bench" / ".data" / "load"))


def _warehouse() -> Path:
    """The cached demo warehouse, generated when missing."""
    from agent.sources.demo import generate

    path = _data_dir() / f"demo-{CUSTOMERS}-{END}.duckdb"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} ...", file=sys.stderr, flush=True)
        generate(path, end=END, customers=CUSTOMERS)
    return path


def _status_kb(pid: int, key: str) -> int | None:
    """``key`` (VmRSS, VmHWM) of process ``pid`` in kB; None once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return next((int(ln.split()[1]) for ln in status.splitlines() if ln.startswith(key)), None)


@dataclass
class Run:
    """What the parent saw of one ``run --once``."""

    names: list[str]
    started: float
    done: list[tuple[float, int]] = field(default_factory=list)
    """Per metric finished, in order: (seconds since the start, VmRSS in kB then)."""
    peak_kb: int = 0
    failed: int = 0
    exit_code: int | None = None

    def watch_peak(self, proc: subprocess.Popen[str]) -> None:
        while proc.poll() is None:
            self.peak_kb = max(self.peak_kb, _status_kb(proc.pid, "VmHWM:") or 0)
            time.sleep(0.2)

    def read(self, proc: subprocess.Popen[str]) -> None:
        """Note the time and RSS of each metric's line as the child prints it."""
        assert proc.stdout is not None
        known = set(self.names)
        for line in proc.stdout:
            word = line.split(" ", 1)[0]
            if word not in known:
                continue
            rss = _status_kb(proc.pid, "VmRSS:") or 0
            self.done.append((time.perf_counter() - self.started, rss))
            self.failed += " failed " in line
            seconds, count = self.done[-1][0], len(self.done)
            print(f"  {count:>4} {word:<28} {_mb(rss):>6} MB {seconds:>7.0f} s", file=sys.stderr)


def _run(checkout: Path, config: Path, names: list[str]) -> Run:
    """``cx-agent run --once`` of ``checkout``'s code over ``config``, watched."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(checkout)}
    cmd = [sys.executable, "-m", "agent", "run", "--once", "-c", str(config)]
    cmd += ["--as-of", END.isoformat()]
    run = Run(names, time.perf_counter())
    with subprocess.Popen(cmd, cwd=checkout, env=env, stdout=subprocess.PIPE, text=True) as proc:
        peak = threading.Thread(target=run.watch_peak, args=(proc,), daemon=True)
        peak.start()
        run.read(proc)
        run.exit_code = proc.wait()
        peak.join()
    return run


def _mb(kb: int) -> str:
    return f"{kb / 1024:,.0f}"


def _table(label: str, run: Run) -> list[str]:
    n = len(run.done)
    points = sorted({c for c in CHECKPOINTS if c <= n} | {n})
    head = f"{'checkout':<14} {'metrics':>7} "
    head += " ".join(f"{'RSS@' + str(c):>8}" for c in points)
    head += f" {'peak MB':>8} {'s/metric 1-' + str(WINDOW):>14} {'s/metric last':>14}"
    head += f" {'total s':>8} {'failed':>6}"
    times = [t for t, _ in run.done]
    per = [b - a for a, b in zip([0.0, *times], times, strict=False)]
    first, last = per[:WINDOW], per[-WINDOW:]
    row = f"{label:<14} {n:>7} "
    row += " ".join(f"{_mb(run.done[c - 1][1]):>8}" for c in points)
    row += f" {_mb(run.peak_kb):>8} {sum(first) / len(first):>14.2f}"
    row += f" {sum(last) / len(last):>14.2f} {times[-1]:>8.0f} {run.failed:>6}"
    drift = run.done[n - 1][1] / run.done[min(WINDOW, n) - 1][1] - 1
    note = f"RSS after metric {n} vs after metric {min(WINDOW, n)}: {drift:+.1%}"
    return [head, "-" * len(head), row, "", note, f"exit code {run.exit_code}"]


def _config(label: str, warehouse: Path, count: int) -> tuple[Path, list[str]]:
    """A fresh work folder for ``label`` with a metrics.yaml of ``count`` metrics."""
    work = _data_dir() / f"run-{label}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    doc = metrics_yaml(warehouse, count)
    config = work / "metrics.yaml"
    config.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return config, list(doc["metrics"])


def _long_warehouse(plain: Path) -> Path:
    """A copy of the demo warehouse whose region Jeju is named by a LONG_VALUE."""
    import duckdb

    path = plain.with_name(f"{plain.stem}-long.duckdb")
    if not path.is_file():
        part = path.with_name(f".{path.name}.tmp")
        shutil.copy(plain, part)
        with duckdb.connect(str(part)) as con:
            con.execute("UPDATE customers SET region = ? WHERE region = 'Jeju'", [LONG_VALUE])
        os.replace(part, path)
    return path


def _long_value(checkout: Path, label: str) -> list[str]:
    """The first metric run alone on the demo warehouse, and on its copy with a long value."""
    plain = _warehouse()
    head = f"{'checkout':<14} {'warehouse':<30} {'peak MB':>8} {'seconds':>8} {'exit':>5}"
    lines = [head, "-" * len(head)]
    for what, warehouse in (("demo", plain), ("Jeju = 100 KB value", _long_warehouse(plain))):
        config, names = _config(f"{label}-long", warehouse, 1)
        run = _run(checkout, config, names)
        seconds = run.done[-1][0] if run.done else float("nan")
        lines.append(
            f"{label:<14} {what:<30} {_mb(run.peak_kb):>8} {seconds:>8.0f} {run.exit_code:>5}"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metrics", type=int, default=200, help="metrics in the config")
    parser.add_argument(
        "--checkout", type=Path, default=ROOT, help="the cx-agent source tree to run"
    )
    parser.add_argument("--label", help="the checkout's name in the table")
    parser.add_argument(
        "--long-value",
        action="store_true",
        help="instead: one metric on the demo warehouse, and with one 100 KB region name",
    )
    args = parser.parse_args(argv)
    checkout = args.checkout.resolve()
    label = args.label or checkout.name
    if args.long_value:
        for line in _long_value(checkout, label):
            print(line)
        return
    config, names = _config(label, _warehouse(), args.metrics)
    print(f"{args.metrics} metrics x {len(DIMENSIONS)} dimensions: {config}", file=sys.stderr)
    run = _run(checkout, config, names)
    if not run.done:
        raise SystemExit(f"no metric finished (exit code {run.exit_code})")
    for line in _table(label, run):
        print(line)


if __name__ == "__main__":
    main()
