"""A daily run asks the warehouse only for the periods that can still change."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from agent.config import Config, load_config
from agent.pipeline.metric_run import MetricJob
from agent.sources.base import CubeQuery
from agent.sources.demo import generate
from agent.sources.duckdb import DuckDBSource
from agent.store import open_store
from tests.conftest import REPO

END = date(2026, 11, 20)


class Recording(DuckDBSource):
    """The real DuckDB source, remembering the first day of every cube it was asked for."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.starts: list[date] = []

    def fetch_cube(self, query: CubeQuery) -> pd.DataFrame:
        self.starts.append(query.start)
        return super().fetch_cube(query)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("incremental")
    shutil.copy(REPO / "metrics.yaml", home / "metrics.yaml")
    (home / "demo").mkdir()
    generate(home / "demo" / "warehouse.duckdb", end=END, seed=3, customers=2000)
    return home


def _cube(config: Config, name: str, source: Recording, store=None) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    dims = ["period", *config.metrics[name].dimensions]
    cube = MetricJob.fetch(config, name, source, END, END, store).cube
    return cube.sort_values(dims, ignore_index=True)


@pytest.mark.parametrize("name", ["conversion", "revisit_rate", "premium_churn"])
def test_the_second_run_reads_only_the_mutable_periods_and_sees_the_same_cube(
    home: Path, tmp_path: Path, name: str
) -> None:
    config = load_config(home / "metrics.yaml")
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    source = Recording(home / "demo" / "warehouse.duckdb")
    first = _cube(config, name, source, store)
    second = _cube(config, name, source, store)
    full = _cube(config, name, source)
    pd.testing.assert_frame_equal(second, full)
    pd.testing.assert_frame_equal(first, full)
    # data ends on Nov 20 and rows may change for 3 days (mutable: 3d): Nov 17 is the last
    # final day, so the second run reads from Nov 18. The weekly metric's last complete week
    # (Nov 9-15) is final: its second run needs nothing from the warehouse.
    if name == "revisit_rate":
        assert len(source.starts) == 2
    else:
        assert source.starts[1] == date(2026, 11, 18)
    assert source.starts[0] == source.starts[-1] < date(2026, 7, 1)


def test_stored_and_fresh_periods_keep_top_n_values_as_a_full_read_does(
    home: Path, tmp_path: Path
) -> None:
    text = (home / "metrics.yaml").read_text()
    # three of the demo's regions by name, the others folded into (other)
    text = text.replace("    watch_segments: true", "    watch_segments: true\n    top_n: 3", 1)
    (tmp_path / "demo").symlink_to(home / "demo")
    (tmp_path / "metrics.yaml").write_text(text)
    config = load_config(tmp_path / "metrics.yaml")
    assert config.metrics["conversion"].top_n == 3
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    source = Recording(home / "demo" / "warehouse.duckdb")
    _cube(config, "conversion", source, store)
    second = _cube(config, "conversion", source, store)
    full = _cube(config, "conversion", source)
    assert full["region"].nunique() == 4  # three named and (other)
    pd.testing.assert_frame_equal(second, full)


def test_periods_that_the_start_of_the_data_cuts_short_are_left_out(
    home: Path, tmp_path: Path
) -> None:
    # 210 days from Sat Apr 25: revisit's week of Apr 20 holds two days and the week of
    # Apr 27 looks back into it, so the series starts May 4; conversion needs nothing from
    # before its history, which starts on May 31 (120 days before Sep 28, where the chunk
    # holding Oct 16, 35 days before Nov 20, starts): nothing of it is lost. Churn reads
    # twice its history (its holiday-window days are judged apart): back to the data's
    # start, whose first rows begin its population on May 9, whole 14 days later.
    config = load_config(home / "metrics.yaml")
    source = DuckDBSource(home / "demo" / "warehouse.duckdb")
    assert source.data_bounds(config.table_ref("revisit_rate"))[0].date() == date(2026, 4, 25)
    jobs = {
        name: MetricJob.fetch(config, name, source, END, END)
        for name in ("revisit_rate", "premium_churn", "conversion")
    }
    firsts = {name: job.cube["period"].min().date() for name, job in jobs.items()}
    assert firsts == {
        "revisit_rate": date(2026, 5, 4),
        "premium_churn": date(2026, 5, 24),
        "conversion": date(2026, 5, 31),
    }
    revisits = jobs["revisit_rate"].series.frame["value"]
    assert abs(revisits.iloc[0] - revisits.median()) < 0.03  # not the 0% of a week with no past
    # 120 days from Jul 24: a day's churn population is whole once its 28 days are in the
    # data; the first 14 days of churn rows (from Aug 7) are left out, zeros among them
    shutil.copy(home / "metrics.yaml", tmp_path / "metrics.yaml")
    generate(tmp_path / "young.duckdb", end=END, seed=3, customers=2000, days=120)
    young = DuckDBSource(tmp_path / "young.duckdb")
    churn = MetricJob.fetch(config, "premium_churn", young, END, END)
    assert churn.cube["period"].min().date() == date(2026, 8, 22)
    assert churn.whole_from is not None and churn.whole_from.date() == date(2026, 8, 22)
    assert jobs["conversion"].whole_from is None
    # a day the data's start cuts short is not judged, and not reported as missing data
    early = MetricJob.fetch(config, "premium_churn", young, date(2026, 8, 10), date(2026, 8, 10))
    assert early.late(date(2026, 8, 10)) is None
    [result] = early.replay(date(2026, 8, 10), date(2026, 8, 10))
    assert result.run.explanations == [] and result.run.value is None
    assert "note_not_judged" in [n.code for n in result.run.notes]
    assert (churn.series.frame["value"].iloc[:14] > 0.05).all()  # the dropped ones start at 0
