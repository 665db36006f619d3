"""The watched segments of a metric (``watch_segments: true``), built from its cube.

The cells are those of the segment lattice attribution searches
(:class:`agent.attribute.lattice.Lattice`, up to ``WATCH_DEPTH`` dimensions), so the
segments watched each period are the ones a finding's causes are named from. Each
period they are judged by :func:`agent.detect.segments.watch_period`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from agent.attribute.lattice import Lattice
from agent.config import MetricSpec
from agent.cube import OTHER, MetricSeries
from agent.detect.bands import Z
from agent.detect.segments import Cells, Judgement, watch_period
from agent.detect.sustained import Rows, noise_kind, spike_z, warning_p
from agent.model import Direction, Finding
from agent.pipeline.detectors import segment_sensitivity

__all__ = ["WATCH_DEPTH", "watched_cells", "watched_findings"]

WATCH_DEPTH = 2
"""Dimensions combined in a watched segment (``platform=ios & city=Busan``)."""


def watched_cells(
    cube: pd.DataFrame,
    spec: MetricSpec,
    total: MetricSeries,
    name: str,
    *,
    chosen_before: pd.Timestamp | None = None,
) -> Cells:
    """Every segment of up to ``WATCH_DEPTH`` dimensions whose median volume reaches
    ``alert.min_volume``, with its num / den per period of ``total`` (NaN in periods
    below that volume). Segments naming ``(other)`` are left out, and so is a
    combination holding the same customers as a more general segment.

    ``chosen_before``: the volume is the median of the periods before it, so the periods
    judged from it on are watched in the same segments whatever data follows them (a
    replay and a daily run agree)."""
    dims = list(spec.dimensions)
    leaves = cube[dims].astype(str).drop_duplicates().reset_index(drop=True)
    lattice = Lattice.build(leaves, dims, WATCH_DEPTH)
    leaf = pd.MultiIndex.from_frame(leaves).get_indexer(
        pd.MultiIndex.from_frame(cube[dims].astype(str))
    )
    period = total.frame.index.get_indexer(pd.Index(cube["period"]))
    inside = period >= 0
    size, width = len(total.frame), len(leaves)
    key = period[inside] * width + leaf[inside]
    num, den = (
        np.bincount(key, cube[c].to_numpy(dtype=float)[inside], size * width).reshape(size, width)
        for c in ("num", "den")
    )
    members = np.array([lattice.members(c) for c in range(lattice.size)]).reshape(-1, width)
    cell_num, cell_den = num @ members.T, den @ members.T
    floor = spec.alert.min_volume
    chooser = cell_den if chosen_before is None else cell_den[total.frame.index < chosen_before]
    keep = _watchable(lattice, members, chooser, floor)
    low = cell_den[:, keep] < max(floor, np.finfo(float).tiny)
    return Cells(
        metric=name,
        segments=[lattice.segment(int(c)) for c in keep],
        num=np.where(low, np.nan, cell_num[:, keep]),
        den=np.where(low, np.nan, cell_den[:, keep]),
        additive=spec.additive,
        members=members[keep],
        leaves=(num, den),
    )


def watched_findings(
    cells: Cells, series: MetricSeries, spec: MetricSpec, periods: list[pd.Timestamp]
) -> dict[pd.Timestamp, list[Finding]]:
    """Per period, the watched segments' findings (see :mod:`agent.detect.segments`)."""
    rows = Rows.of(series.judged)
    if rows is None:
        return {}
    sensitivity = segment_sensitivity(spec)
    bad = Direction.DOWN if Direction(spec.good) is Direction.UP else Direction.UP
    kinds = noise_kind(series)
    position = {p: i for i, p in enumerate(series.frame.index)}
    out = {}
    for p in periods:
        how = Judgement(
            rows=rows,
            noise=str(kinds[position[p]]),
            directions=(Direction.DOWN, Direction.UP) if spec.alert_on == "both" else (bad,),
            q=spec.alert.fdr if spec.alert.fdr is not None else warning_p(sensitivity),
            sensitivity=sensitivity,
            band_z=Z[sensitivity],
            spike=spike_z(sensitivity),
        )
        out[p] = watch_period(cells, p, how)
    return out


def _watchable(lattice: Lattice, members: np.ndarray, den: np.ndarray, floor: float) -> np.ndarray:
    """Cells with volume (median den at least ``floor`` and above 0), naming no
    ``(other)``, and holding other leaves than every simpler cell (cells come simplest
    first: of cells holding the same leaves, the first is kept)."""
    volume = np.median(den, axis=0) if len(den) else np.zeros(den.shape[1])
    ok = (volume > 0) & (volume >= floor)
    other = np.array(
        [any(v == OTHER for v in lattice.segment(c).values()) for c in range(lattice.size)]
    )
    first = np.zeros(lattice.size, dtype=bool)
    first[np.unique(members, axis=0, return_index=True)[1]] = True
    return np.flatnonzero(ok & ~other & first & (lattice.count > 0))
