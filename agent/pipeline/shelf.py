"""Cubes of a run's metrics kept on disk, read back whole or one segment at a time.

A finding's behavioural context measures every other metric in the finding's top
segments (``agent.attribute.context``), so a run needs the cubes of metrics it has
already judged, and of some it has not judged yet. Kept in memory they made a run of
200 metrics grow to gigabytes; read again from the warehouse they would cost one
query per metric per finding. The shelf writes each cube once, as a compressed
Parquet file in a temporary directory of its own (a cube of 236,000 rows takes about
half a megabyte), and reads back only what is asked for: the rows inside a segment,
or the whole cube for the metric's own run. What stays in memory per metric is its
list of periods and its column types.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from agent.model import Segment

__all__ = ["CubeShelf"]

_MEASURES = ("period", "num", "den")
"""The columns of a cube that are not dimensions."""


class CubeShelf:
    """Cubes by metric name, on disk; the directory goes when the shelf does."""

    def __init__(self) -> None:
        self._dir: Path | None = None
        self._removal: weakref.finalize[[Path], CubeShelf] | None = None
        self._files: dict[str, Path] = {}
        self._dtypes: dict[str, dict[Hashable, Any]] = {}
        self._periods: dict[str, pd.Series] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._files

    def put(self, name: str, cube: pd.DataFrame) -> None:
        """Keep ``cube`` as ``name``'s (once: a cube of a run does not change)."""
        if name in self:
            return
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="cx-agent-cubes-"))
            self._removal = weakref.finalize(self, _remove, self._dir)
        path = self._dir / f"{len(self._files)}.parquet"
        cube.to_parquet(path, compression="zstd", index=False)
        self._files[name] = path
        self._dtypes[name] = cube.dtypes.to_dict()
        self._periods[name] = pd.Series(cube["period"].unique())

    def cube(self, name: str) -> pd.DataFrame:
        """``name``'s cube as it was put: same columns, types and row order."""
        return pd.read_parquet(self._files[name]).astype(self._dtypes[name])

    def periods(self, name: str) -> pd.Series:
        """The periods of ``name``'s cube (every period any of its rows has)."""
        return self._periods[name]

    def rows(self, name: str, segment: Segment) -> pd.DataFrame:
        """The rows of ``name``'s cube inside ``segment``, in their order.

        Text columns are read as dictionaries: the segment is matched on each
        dimension's few distinct values, and only the rows kept become text again.
        """
        dtypes = self._dtypes[name]
        dimensions = [c for c in dtypes if c not in _MEASURES]
        table = pq.read_table(self._files[name], read_dictionary=dimensions)
        keep = np.ones(table.num_rows, dtype=bool)
        for dim, value in segment.items():
            keep &= _equals(table.column(dim), value)
        kept = table.filter(pa.array(keep))
        columns = [_decoded(column) for column in kept.columns]
        plain = pa.Table.from_arrays(columns, names=kept.column_names)
        frame: pd.DataFrame = plain.replace_schema_metadata(kept.schema.metadata).to_pandas()
        return frame.astype(dtypes)

    def close(self) -> None:
        """Remove the files now (otherwise when the shelf is garbage-collected, or when
        the process exits)."""
        if self._removal is not None:
            self._removal()
        self._dir, self._removal = None, None
        for kept in (self._files, self._dtypes, self._periods):
            kept.clear()


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _equals(column: pa.ChunkedArray, value: str) -> np.ndarray:
    """``column == value`` as pandas compares ``column.astype(str) == value``; for a
    dictionary column, on its distinct values (missing values never match)."""
    parts = [np.zeros(0, dtype=bool)]
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            hits = np.asarray(chunk.dictionary.to_pandas().astype(str) == value)
            codes = pc.fill_null(chunk.indices, -1).to_numpy()
            parts.append(np.append(hits, False)[codes])  # -1 reads the appended False
        else:
            parts.append(np.asarray(chunk.to_pandas().astype(str) == value, dtype=bool))
    return np.concatenate(parts)


def _decoded(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A dictionary column as plain values; any other column as it is."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column
