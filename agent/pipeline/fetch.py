"""Incremental cubes: a daily run reads only the periods that can still change.

Rows of a warehouse keep arriving and being corrected for a while after their day
(late events, refunds): ``mutable:`` of a metric (default 3 days) says for how long.
Periods older than that are *final*. The first run of a metric reads its whole cube
and stores the final periods (``agent.store.cubes``); each later run takes the stored
periods and asks the warehouse only for the ones after them, so its cost does not
grow with the history it looks at. Retention periods stay mutable for their window
too. A change of the metric's definition or warehouse starts over with a full read.

Rare dimension values are folded into ``(other)`` per query; after joining stored and
fresh periods the fold is applied again over the whole cube, so a dimension keeps at
most ``top_n`` named values besides ``(other)``, as a full read does. (A value folded
in stored periods stays folded there.)
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, datetime, timedelta

import pandas as pd

from agent.config import Config, MetricSpec
from agent.cube import OTHER
from agent.periods import bucket_start, last_start, next_bucket
from agent.sources.base import Source
from agent.store import Store
from agent.store.cubes import Span, load_cube, save_cube

__all__ = ["fetch_cube", "final_through"]


def fetch_cube(
    config: Config,
    name: str,
    source: Source,
    span: tuple[date, date],
    newest: pd.Timestamp | None,
    store: Store | None = None,
) -> pd.DataFrame:
    """The naive cube of ``name`` for the periods of ``span``; with a ``store``, stored
    final periods are reused and the final ones read now are stored for the next run."""
    start, end = span
    if store is None:
        return source.fetch_cube(config.cube_query(name, start, end))
    spec = config.metrics[name]
    key = _fingerprint(config, name)
    first = _dt(bucket_start(start, spec.grain))
    last = last_start(bucket_start(end, spec.grain), spec.grain)
    final = final_through(spec, newest)
    final = None if final is None else min(final, last)
    stored = load_cube(store, name, key, list(spec.dimensions), since=first)
    if stored is None or not _covers(stored[1], first, spec):
        cube = source.fetch_cube(config.cube_query(name, start, end))
        _store(store, name, key, cube, (first, final), first)
        return cube
    frame, (kept_first, kept_last) = stored
    fresh_from = next_bucket(kept_last.date(), spec.grain)
    fresh = frame.iloc[:0]
    if _dt(fresh_from) <= last:
        fresh = source.fetch_cube(config.cube_query(name, fresh_from, end))
    cube = pd.concat([frame[frame["period"] <= last], fresh], ignore_index=True)
    cube = cube.astype(fresh.dtypes.to_dict()) if len(fresh) else cube
    _store(store, name, key, cube, (_dt(fresh_from), final), kept_first)
    return _refold(cube, list(spec.dimensions), spec.top_n)


def final_through(spec: MetricSpec, newest: pd.Timestamp | None) -> datetime | None:
    """Start of the last period that can no longer change, given the newest row's time."""
    if newest is None:
        return None
    settled = newest.date() + timedelta(days=1) - spec.mutable
    if spec.kind == "retention" and spec.window is not None:
        settled -= spec.window
    period = bucket_start(settled, spec.grain)
    if next_bucket(period, spec.grain) > settled:
        period = bucket_start(period - timedelta(days=1), spec.grain)
    return last_start(period, spec.grain)


def _covers(span: Span, first: datetime, spec: MetricSpec) -> bool:
    """Whether the stored ``span`` holds every period from ``first`` to its end."""
    return span[0] <= first <= _dt(next_bucket(span[1].date(), spec.grain))


def _store(
    store: Store,
    name: str,
    key: str,
    cube: pd.DataFrame,
    new: tuple[datetime, datetime | None],
    first: datetime,
) -> None:
    """Store the final periods of ``new`` read now, the span then starting at ``first``."""
    fresh_first, final = new
    if final is not None and fresh_first <= final:
        save_cube(store, name, key, cube, (fresh_first, final), (first, final))


def _refold(cube: pd.DataFrame, dimensions: list[str], top_n: int) -> pd.DataFrame:
    """Fold each dimension past its ``top_n`` largest values (by den), as the query does."""
    folded = False
    for dim in dimensions:
        volume = cube[cube[dim] != OTHER].groupby(dim)["den"].sum()
        if len(volume) > top_n:
            top = volume.sort_values(ascending=False, kind="stable").index[:top_n]
            cube[dim] = cube[dim].where(cube[dim].isin(top), OTHER)
            folded = True
    if not folded:
        return cube.sort_values(["period", *dimensions], ignore_index=True)
    keys = ["period", *dimensions]
    return cube.groupby(keys, as_index=False, sort=True)[["num", "den"]].sum()


def _fingerprint(config: Config, name: str) -> str:
    """What the stored cube depends on: the metric's query (without dates) and warehouse."""
    query = replace(config.cube_query(name, date.min, date.min), metric="")
    return hashlib.sha256(f"{config.warehouse}|{query!r}".encode()).hexdigest()[:32]


def _dt(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)
