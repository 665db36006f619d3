"""Generated warehouses for ``bench.power``: draw, write, cache.

``warehouse(kind, seed, root)`` returns the folder of one generated warehouse —
``warehouse.duckdb``, the ``metrics.yaml`` a new user would write for it from the
README (defaults; ``watch_segments: true`` on rates and scores; the same for every
warehouse, never tuned to one), and ``truth.json`` (the planted incidents) — building
it on first use. Folders are keyed by kind, seed and ``VERSION``: change ``VERSION``
whenever the generator's output changes.

Sessions are drawn per day x leaf from the world's expectations (Poisson volume,
binomial orders with a day-to-day noise shared by every leaf, gamma order values).
Up to ``ROW_LEVEL`` sessions a day they are written one row per session; above it,
as the pre-aggregated daily table a team at that volume has (one row per day x leaf
with sessions, orders and revenue). Survey answers are always rows.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from bench._power_incidents import Incident, plant_family, plant_retailer
from bench._power_world import World, draw_world, retailer_world

__all__ = ["KINDS", "ROW_LEVEL", "VERSION", "read_truth", "warehouse"]

VERSION = 2
ROW_LEVEL = 50_000
"""Mean sessions a day up to which sessions are written one row each."""
KINDS = {"family": (draw_world, plant_family), "retailer": (retailer_world, plant_retailer)}
DAY = 86_400


def warehouse(kind: str, seed: int, root: Path) -> Path:
    """The folder of generated warehouse ``kind``/``seed`` under ``root`` (built once)."""
    home = root / f"v{VERSION}" / f"{kind}-{seed}"
    if (home / "truth.json").exists():
        return home
    home.mkdir(parents=True, exist_ok=True)
    draw, plant = KINDS[kind]
    world = draw(seed)
    rng = np.random.default_rng([seed, 1])
    incidents = plant(world, rng)
    tables, row_level = _tables(world, rng)
    _write(home / "warehouse.duckdb", tables)
    (home / "metrics.yaml").write_text(metrics_yaml(world, row_level), encoding="utf-8")
    truth = home / ".truth.json.tmp"
    truth.write_text(json.dumps(_truth(world, incidents, row_level), indent=1), encoding="utf-8")
    os.replace(truth, home / "truth.json")  # last: its presence marks the folder complete
    return home


def read_truth(home: Path) -> dict[str, Any]:
    truth: dict[str, Any] = json.loads((home / "truth.json").read_text(encoding="utf-8"))
    return truth


def _truth(world: World, incidents: list[Incident], row_level: bool) -> dict[str, Any]:
    return {
        "seed": world.seed,
        "country": world.country,
        "sessions_a_day": round(float(world.volume.sum(axis=1).mean())),
        "row_level": row_level,
        "dimensions": {d.column: len(d.values) for d in world.dims},
        "start": world.eval_start.isoformat(),
        "end": world.end.isoformat(),
        "incidents": [
            asdict(i) | {k: getattr(i, k).isoformat() for k in ("onset", "end", "visible", "until")}
            for i in incidents
        ],
    }


def _sessions(world: World, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per day x leaf: sessions, orders and revenue drawn from the expectations."""
    sessions = rng.poisson(world.volume)
    noise = rng.lognormal(0, world.noise, (world.days, 1))
    rate = np.clip(world.conversion * noise, 0, 1)
    orders = rng.binomial(sessions, rate)
    mean = world.order_value * rng.lognormal(0, world.noise, (world.days, 1))
    shape = world.order_shape
    return {"sessions": sessions, "orders": orders, "mean": mean, "shape": np.asarray(shape)}


def _labels(codes: np.ndarray, names: tuple[str, ...]) -> pd.Categorical[str]:
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=pd.Index(names))


def _leaf_columns(world: World, leaf: np.ndarray) -> dict[str, pd.Categorical[str]]:
    return {d.column: _labels(world.leaves[leaf, i], d.values) for i, d in enumerate(world.dims)}


def _aggregated(world: World, rng: np.random.Generator, s: dict[str, np.ndarray]) -> pd.DataFrame:
    day, leaf = np.nonzero(s["sessions"])
    orders = s["orders"][day, leaf]
    scale = s["mean"][day, leaf] / s["shape"]
    revenue = np.where(orders > 0, rng.gamma(np.maximum(orders, 1) * s["shape"], scale), 0.0)
    dates = pd.to_datetime(world.start) + pd.to_timedelta(day, unit="D")
    return pd.DataFrame(
        {"day": dates.date, **_leaf_columns(world, leaf)}
        | {"sessions": s["sessions"][day, leaf], "orders": orders, "revenue": revenue.round(2)}
    )


def _rows(world: World, rng: np.random.Generator, s: dict[str, np.ndarray]) -> pd.DataFrame:
    day, leaf = np.nonzero(s["sessions"])
    counts = s["sessions"][day, leaf]
    cell = np.repeat(np.arange(len(day)), counts)
    rank = np.arange(len(cell)) - np.repeat(np.cumsum(counts) - counts, counts)
    converted = rank < s["orders"][day, leaf][cell]
    value = rng.gamma(s["shape"], s["mean"][day, leaf][cell] / s["shape"])
    sec = day[cell] * DAY + rng.integers(0, DAY, len(cell))
    time = np.datetime64(world.start, "s") + sec.astype("timedelta64[s]")
    customers = max(int(world.volume.sum(axis=1).mean() * 20), 1000)
    return pd.DataFrame(
        {
            "session_id": np.arange(1, len(cell) + 1),
            "customer_id": rng.integers(1, customers, len(cell)),
            world.names["time"]: time.astype("datetime64[us]"),
            **_leaf_columns(world, leaf[cell]),
            "converted": converted.astype(np.int8),
            "order_value": np.where(converted, value.round(2), 0.0),
        }
    ).sort_values(world.names["time"], kind="stable")


def _survey(world: World, rng: np.random.Generator) -> pd.DataFrame:
    """One row per answer: touchpoint, score 0-10 (detractor 0-6, passive 7-8, promoter 9-10)."""
    n = rng.poisson(world.responses[:, None] * world.tp_weights[None, :])
    day, tp = np.nonzero(n)
    counts = n[day, tp]
    groups = np.concatenate(
        [rng.choice(3, c, p=world.nps_mix[d, t]) for d, t, c in zip(day, tp, counts, strict=True)]
    )
    low, width = np.array([0, 7, 9])[groups], np.array([7, 2, 2])[groups]
    score = low + rng.integers(0, width)
    sec = np.repeat(day, counts) * DAY + rng.integers(0, DAY, len(groups))
    time = np.datetime64(world.start, "s") + sec.astype("timedelta64[s]")
    frame = pd.DataFrame(
        {
            "response_id": np.arange(1, len(groups) + 1),
            "response_time": time.astype("datetime64[us]"),
            world.names["touchpoint"]: _labels(np.repeat(tp, counts), world.touchpoints),
            "score": score.astype(np.int32),
        }
    )
    return frame.sort_values("response_time", kind="stable")


def _tables(world: World, rng: np.random.Generator) -> tuple[dict[str, pd.DataFrame], bool]:
    drawn = _sessions(world, rng)
    row_level = bool(world.volume.sum(axis=1).mean() <= ROW_LEVEL)
    sessions = _rows(world, rng, drawn) if row_level else _aggregated(world, rng, drawn)
    name = world.names["sessions"] if row_level else f"daily_{world.names['sessions']}"
    return {name: sessions, world.names["survey"]: _survey(world, rng)}, row_level


def _write(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Write ``tables`` to a DuckDB file at ``path``, renamed into place when complete;
    labels (pandas categoricals) become VARCHAR columns, as in a warehouse."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    with duckdb.connect(str(tmp)) as con:
        for name, frame in tables.items():
            columns = [
                f"{c}::VARCHAR AS {c}" if isinstance(frame[c].dtype, pd.CategoricalDtype) else c
                for c in frame.columns
            ]
            con.from_df(frame).select(", ".join(columns)).create(name)
    os.replace(tmp, path)


def metrics_yaml(world: World, row_level: bool) -> str:
    """metrics.yaml as a new user writes it from the README: defaults, rates watched."""
    names, dims = world.names, ", ".join(d.column for d in world.dims)
    if row_level:
        table, time = names["sessions"], names["time"]
        conversion, aov = ("converted", "1"), ("order_value", "converted")
    else:
        table, time = f"daily_{names['sessions']}", "day"
        conversion, aov = ("orders", "sessions"), ("revenue", "orders")
    detect = "    detect:\n      anomaly: {sensitivity: medium}\n      change_point: {}\n"
    nps = "CASE WHEN score >= 9 THEN 100 WHEN score <= 6 THEN -100 ELSE 0 END"
    return (
        f"version: 1\ntimezone: {world.timezone}\ncountry: {world.country}\n"
        "warehouse: duckdb:///warehouse.duckdb\n"
        f"sources:\n  sessions: {{table: {table}, time: {time}}}\n"
        f"  survey: {{table: {names['survey']}, time: response_time}}\n"
        "metrics:\n"
        f"  conversion:\n    title: Conversion rate\n    source: sessions\n    kind: ratio\n"
        f'    numerator: "{conversion[0]}"\n    denominator: "{conversion[1]}"\n'
        f"    unit: percent\n    good: up\n    dimensions: [{dims}]\n"
        f"    watch_segments: true\n{detect}"
        f"  average_order_value:\n    title: Average order value\n    source: sessions\n"
        f'    kind: ratio\n    numerator: "{aov[0]}"\n    denominator: "{aov[1]}"\n'
        f"    unit: currency\n    good: up\n    dimensions: [{dims}]\n{detect}"
        f"  nps:\n    title: Net Promoter Score\n    source: survey\n    kind: ratio\n"
        f'    numerator: "{nps}"\n    denominator: "1"\n    unit: score\n    good: up\n'
        f"    dimensions: [{names['touchpoint']}]\n    watch_segments: true\n{detect}"
    )
