"""The cube shelf gives back exactly what was put: whole cubes and the rows of a segment."""

from __future__ import annotations

import gc
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agent.cube import slice_cube
from agent.pipeline.shelf import CubeShelf

SEGMENTS = [
    {},
    {"channel": "app"},
    {"channel": "app", "region": "Busan"},
    {"region": "Jeju"},  # a value the cube does not have
    {"tier": "3"},  # a dimension the warehouse gave as numbers
]


def _cube(seed: int = 1, rows: int = 5_000) -> pd.DataFrame:
    """A cube as a fetch leaves it: tz-aware periods, text dimensions (some missing)."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2026-06-01", periods=120, freq="D", tz="Asia/Seoul")
    channel = pd.Series(rng.choice(["app", "web", "store"], rows), dtype="str")
    channel[rng.random(rows) < 0.01] = None
    cube = pd.DataFrame(
        {
            "period": np.sort(rng.choice(periods, rows)),
            "channel": channel,
            "region": pd.Series(rng.choice(["Seoul", "Busan", "(other)"], rows), dtype="str"),
            "tier": rng.integers(1, 5, rows),
            "num": rng.random(rows) * 100,
            "den": rng.integers(1, 50, rows).astype(float),
        }
    )
    return cube.sort_values(["period", "channel", "region", "tier"], ignore_index=True)


def test_a_cube_comes_back_whole_with_its_types_and_order() -> None:
    shelf, cube = CubeShelf(), _cube()
    shelf.put("visits", cube)
    pd.testing.assert_frame_equal(shelf.cube("visits"), cube, check_exact=True)
    pd.testing.assert_series_equal(shelf.periods("visits"), pd.Series(cube["period"].unique()))


@pytest.mark.parametrize("segment", SEGMENTS, ids=str)
def test_a_segment_reads_the_rows_the_cube_has_inside_it(segment: dict[str, str]) -> None:
    shelf, cube = CubeShelf(), _cube()
    shelf.put("visits", cube)
    rows = shelf.rows("visits", segment)
    expected = slice_cube(cube, segment)
    assert len(expected) == 0 if segment == {"region": "Jeju"} else len(expected) > 0
    pd.testing.assert_frame_equal(
        rows.reset_index(drop=True), expected.reset_index(drop=True), check_exact=True
    )


def test_each_metric_keeps_its_own_cube_and_the_first_one_put() -> None:
    shelf = CubeShelf()
    first, second = _cube(seed=1), _cube(seed=2)
    shelf.put("visits", first)
    shelf.put("orders", second)
    shelf.put("visits", second)  # a cube of a run does not change: the first one stays
    assert "visits" in shelf and "orders" in shelf and "nps" not in shelf
    pd.testing.assert_frame_equal(shelf.cube("visits"), first, check_exact=True)
    pd.testing.assert_frame_equal(shelf.cube("orders"), second, check_exact=True)


def test_closing_removes_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    shelf = CubeShelf()
    shelf.put("visits", _cube())
    assert [p.name.startswith("cx-agent-cubes-") for p in tmp_path.iterdir()] == [True]
    shelf.close()
    assert list(tmp_path.iterdir()) == [] and "visits" not in shelf


def test_a_shelf_nobody_holds_leaves_no_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    shelf = CubeShelf()
    shelf.put("visits", _cube())
    del shelf
    gc.collect()
    assert list(tmp_path.iterdir()) == []
