"""The stored cube: final periods of each metric's cube, kept so a daily run reads less.

A period is *final* once it is past the metric's mutability window: its rows will not
change any more, so a later run takes it from here instead of the warehouse. The
stored periods of a metric form one span (``cube_spans``) with a fingerprint of the
query and warehouse that made them; another fingerprint means the metric's definition
changed, and the span is thrown away.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

import pandas as pd
from sqlalchemy import Row, delete, select

from agent.store import Store
from agent.store.schema import cube_periods, cube_spans

__all__ = ["Span", "forget_cubes", "load_cube", "save_cube"]

Span = tuple[datetime, datetime]
"""First and last stored period (naive, inclusive)."""


class _Cells(TypedDict):
    """One stored period (the JSON of ``cube_periods.cells``): its rows, column by column."""

    dims: list[list[str]]
    num: list[float]
    den: list[float]


def load_cube(
    store: Store, metric: str, fingerprint: str, dimensions: list[str], since: datetime
) -> tuple[pd.DataFrame, Span] | None:
    """The stored rows of ``metric`` from ``since`` on and its span, or None if not stored."""
    with store.engine.connect() as conn:
        span = conn.execute(
            select(cube_spans.c.fingerprint, cube_spans.c.first, cube_spans.c.last).where(
                cube_spans.c.metric == metric
            )
        ).first()
        if span is None or span.fingerprint != fingerprint:
            return None
        rows = conn.execute(
            select(cube_periods.c.period, cube_periods.c.cells)
            .where(cube_periods.c.metric == metric, cube_periods.c.period >= since)
            .order_by(cube_periods.c.period)
        ).all()
    return _frame(rows, dimensions), (span.first, span.last)


def save_cube(
    store: Store, metric: str, fingerprint: str, cube: pd.DataFrame, new: Span, span: Span
) -> None:
    """Store the periods of ``cube`` inside ``new``; ``span`` is what is stored afterwards
    (from the old span's start when ``new`` extends it, else ``new`` itself)."""
    dimensions = [c for c in cube.columns if c not in ("period", "num", "den")]
    rows = [
        {"metric": metric, "period": period.to_pydatetime(), "cells": _cells(group, dimensions)}
        for period, group in cube.groupby(pd.DatetimeIndex(cube["period"]), sort=True)
        if new[0] <= period <= new[1]
    ]
    stale = (cube_periods.c.period < span[0]) | (cube_periods.c.period >= new[0])
    with store.transaction() as conn:
        conn.execute(delete(cube_periods).where(cube_periods.c.metric == metric, stale))
        conn.execute(delete(cube_spans).where(cube_spans.c.metric == metric))
        if rows:
            conn.execute(cube_periods.insert(), rows)
        conn.execute(
            cube_spans.insert().values(
                metric=metric, fingerprint=fingerprint, first=span[0], last=span[1]
            )
        )


def forget_cubes(store: Store) -> None:
    """Drop every stored cube (the warehouse was rebuilt: nothing stored is true any more)."""
    with store.transaction() as conn:
        conn.execute(delete(cube_periods))
        conn.execute(delete(cube_spans))


def _cells(group: pd.DataFrame, dimensions: list[str]) -> _Cells:
    return {
        "dims": group[dimensions].astype(str).to_numpy().tolist(),
        "num": group["num"].astype(float).tolist(),
        "den": group["den"].astype(float).tolist(),
    }


def _frame(rows: Sequence[Row[datetime, _Cells]], dimensions: list[str]) -> pd.DataFrame:
    """One DataFrame from the stored periods' cells, built column by column."""
    periods = [pd.Timestamp(p) for p, cells in rows for _ in cells["num"]]
    frame = pd.DataFrame({"period": pd.Series(periods, dtype="datetime64[us]")})
    dims = [d for _, cells in rows for d in cells["dims"]]
    for i, dim in enumerate(dimensions):
        frame[dim] = pd.Series([d[i] for d in dims], dtype="str")
    frame["num"] = pd.Series([x for _, c in rows for x in c["num"]], dtype="float64")
    frame["den"] = pd.Series([x for _, c in rows for x in c["den"]], dtype="float64")
    return frame
