"""Generated warehouses for ``bench.power``: draw, write, cache.

``warehouse(kind, seed, root)`` returns the folder of one generated warehouse —
``warehouse.duckdb``, the ``metrics.yaml`` a new user would write for it from the
README (defaults; ``watch_segments: true`` on rates and scores; the same for every
warehouse, never tuned to one), and ``truth.json`` (the planted incidents) — building
it on first use. Folders are keyed by kind, seed and ``VERSION``: change ``VERSION``
whenever the generator's output changes.

Up to ``ENTITY`` sessions a day (and in the retailer profile) sessions come from
customers (``bench._power_customers``) and the warehouse has entity metrics with their
incidents (``bench._power_entity``); otherwise sessions are drawn per day x leaf from
the world's expectations (Poisson). Orders are drawn per session or leaf with a
day-to-day noise shared by every leaf, order values from a gamma. Up to ``ROW_LEVEL``
sessions a day they are written one row per session; above it, as the pre-aggregated
daily table a team at that volume has (one row per day x leaf with sessions, orders
and revenue). Survey answers are always rows.
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

from bench._power_customers import Cells, draw_customers, random_cells, session_cells
from bench._power_entity import ENTITY_METRICS, plant_entity, premium_grade
from bench._power_incidents import Incident, plant_family, plant_retailer
from bench._power_world import World, draw_world, retailer_world

__all__ = ["KINDS", "ROW_LEVEL", "VERSION", "read_truth", "session_rows", "warehouse"]

VERSION = 4
ROW_LEVEL = 50_000
"""Mean sessions a day up to which sessions are written one row each."""
ENTITY = 20_000
"""Mean sessions a day up to which a generated warehouse has customers and entity metrics."""
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
    entity, planted = _entity_metrics(kind, world)
    incidents, cells = [], None
    if entity:
        customers, visits = draw_customers(world, rng)
        incidents = plant_entity(world, customers, visits, rng, planted)
        cells = session_cells(world, customers, visits, rng)
        world.volume = np.zeros_like(world.volume)
        np.add.at(world.volume, (cells.day, cells.leaf), cells.count)
    incidents = plant(world, rng) + incidents
    tables, row_level = _tables(world, rng, cells)
    _write(home / "warehouse.duckdb", tables)
    text = metrics_yaml(world, row_level) + entity_yaml(world, entity)
    (home / "metrics.yaml").write_text(text, encoding="utf-8")
    truth = home / ".truth.json.tmp"
    truth.write_text(json.dumps(_truth(world, incidents, row_level), indent=1), encoding="utf-8")
    os.replace(truth, home / "truth.json")  # last: its presence marks the folder complete
    return home


def _entity_metrics(kind: str, world: World) -> tuple[list[str], list[str]]:
    """The entity metrics of a warehouse, and those that get incidents: the retailer
    watches its revisit rate (no incident: its false alerts are the point); small
    generated warehouses all three, premium share when customers have a grade."""
    if kind == "retailer":
        return ["revisit_rate"], []
    if world.volume.sum(axis=1).mean() > ENTITY:
        return [], []
    metrics = [m for m in ENTITY_METRICS if m != "premium_share" or premium_grade(world)]
    return metrics, metrics


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


def _day_noise(world: World, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(D, 1) day-to-day factors of conversion and of order value, shared by every leaf."""
    return (rng.lognormal(0, world.noise, (world.days, 1)) for _ in range(2))  # type: ignore[return-value]


def _labels(codes: np.ndarray, names: tuple[str, ...]) -> pd.Categorical[str]:
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=pd.Index(names))


def _leaf_columns(world: World, leaf: np.ndarray) -> dict[str, pd.Categorical[str]]:
    return {d.column: _labels(world.leaves[leaf, i], d.values) for i, d in enumerate(world.dims)}


def _aggregated(world: World, rng: np.random.Generator) -> pd.DataFrame:
    """One row per day x leaf: sessions, orders and revenue."""
    conv, value = _day_noise(world, rng)
    sessions = rng.poisson(world.volume)
    day, leaf = np.nonzero(sessions)
    orders = rng.binomial(sessions[day, leaf], np.clip(world.conversion * conv, 0, 1)[day, leaf])
    scale = (world.order_value * value)[day, leaf] / world.order_shape
    revenue = np.where(orders > 0, rng.gamma(np.maximum(orders, 1) * world.order_shape, scale), 0)
    dates = pd.to_datetime(world.start) + pd.to_timedelta(day, unit="D")
    return pd.DataFrame(
        {"day": dates.date, **_leaf_columns(world, leaf)}
        | {"sessions": sessions[day, leaf], "orders": orders, "revenue": revenue.round(2)}
    )


def session_rows(world: World, rng: np.random.Generator, cells: Cells) -> pd.DataFrame:
    """One row per session, with its customer, time, dimensions, conversion and value."""
    conv, value = _day_noise(world, rng)
    day, leaf = (np.repeat(a, cells.count) for a in (cells.day, cells.leaf))
    converted = rng.random(len(day)) < np.clip(world.conversion * conv, 0, 1)[day, leaf]
    shape = world.order_shape
    amount = rng.gamma(shape, (world.order_value * value)[day, leaf] / shape)
    sec = day * DAY + rng.integers(0, DAY, len(day))
    time = np.datetime64(world.start, "s") + sec.astype("timedelta64[s]")
    return pd.DataFrame(
        {
            "session_id": np.arange(1, len(day) + 1),
            "customer_id": np.repeat(cells.customer, cells.count) + 1,
            world.names["time"]: time.astype("datetime64[us]"),
            **_leaf_columns(world, leaf),
            "converted": converted.astype(np.int8),
            "order_value": np.where(converted, amount.round(2), 0.0),
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


def _tables(
    world: World, rng: np.random.Generator, cells: Cells | None
) -> tuple[dict[str, pd.DataFrame], bool]:
    row_level = bool(world.volume.sum(axis=1).mean() <= ROW_LEVEL)
    if row_level:
        sessions = session_rows(world, rng, cells or random_cells(world, rng))
    else:
        sessions = _aggregated(world, rng)
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


DETECT = "    detect:\n      anomaly: {sensitivity: medium}\n      change_point: {}\n"


def metrics_yaml(world: World, row_level: bool) -> str:
    """metrics.yaml as a new user writes it from the README: defaults, rates watched."""
    names, dims = world.names, ", ".join(d.column for d in world.dims)
    if row_level:
        table, time = names["sessions"], names["time"]
        conversion, aov = ("converted", "1"), ("order_value", "converted")
    else:
        table, time = f"daily_{names['sessions']}", "day"
        conversion, aov = ("orders", "sessions"), ("revenue", "orders")
    entity = ", entity: customer_id" if row_level else ""
    nps = "CASE WHEN score >= 9 THEN 100 WHEN score <= 6 THEN -100 ELSE 0 END"
    return (
        f"version: 1\ntimezone: {world.timezone}\ncountry: {world.country}\n"
        "warehouse: duckdb:///warehouse.duckdb\n"
        f"sources:\n  sessions: {{table: {table}, time: {time}{entity}}}\n"
        f"  survey: {{table: {names['survey']}, time: response_time}}\n"
        "metrics:\n"
        f"  conversion:\n    title: Conversion rate\n    source: sessions\n    kind: ratio\n"
        f'    numerator: "{conversion[0]}"\n    denominator: "{conversion[1]}"\n'
        f"    unit: percent\n    good: up\n    dimensions: [{dims}]\n"
        f"    watch_segments: true\n{DETECT}"
        f"  average_order_value:\n    title: Average order value\n    source: sessions\n"
        f'    kind: ratio\n    numerator: "{aov[0]}"\n    denominator: "{aov[1]}"\n'
        f"    unit: currency\n    good: up\n    dimensions: [{dims}]\n{DETECT}"
        f"  nps:\n    title: Net Promoter Score\n    source: survey\n    kind: ratio\n"
        f'    numerator: "{nps}"\n    denominator: "1"\n    unit: score\n    good: up\n'
        f"    dimensions: [{names['touchpoint']}]\n    watch_segments: true\n{DETECT}"
    )


def entity_yaml(world: World, metrics: list[str]) -> str:
    """The entity metrics' part of metrics.yaml (customers: churn, revisits, premium share)."""
    dims = [d.column for d in world.dims]
    blocks = {
        "churn": "    title: Customer churn\n    kind: churn\n    window: 14d\n    good: down\n",
        "revisit_rate": "    title: Revisit rate\n    kind: returning\n    lookback: 7d\n"
        "    good: up\n",
    }
    premium = premium_grade(world)
    if premium is not None:
        blocks["premium_share"] = (
            f'    title: Premium share\n    kind: mix\n    category: "{premium[0]} = '
            f"'{premium[1]}'\"\n    good: up\n"
        )
        dims_mix = [d for d in dims if d != premium[0]]
    text = ""
    for name in metrics:
        shown = dims_mix if name == "premium_share" else dims
        text += (
            f"  {name}:\n{blocks[name]}    source: sessions\n    dimensions: [{', '.join(shown)}]\n"
            f"    watch_segments: true\n{DETECT}"
        )
    return text
