"""How far data is loaded: the source's newest row, or the team's own freshness query."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import yaml

from agent.config import load_config
from agent.model import FindingKind
from agent.pipeline.metric_run import MetricJob
from agent.sources.demo import generate
from agent.sources.duckdb import DuckDBSource
from tests.conftest import REPO

END = date(2026, 11, 20)


def test_a_freshness_query_saying_the_load_stopped_early_makes_the_day_late(
    tmp_path: Path,
) -> None:
    shutil.copy(REPO / "metrics.yaml", tmp_path / "metrics.yaml")
    (tmp_path / "demo").mkdir()
    generate(tmp_path / "demo" / "warehouse.duckdb", end=END, seed=2, customers=2000)
    source = DuckDBSource(tmp_path / "demo" / "warehouse.duckdb")
    on_time = load_config(tmp_path / "metrics.yaml")
    assert MetricJob.fetch(on_time, "nps", source, END, END).late(END) is None

    raw = yaml.safe_load((tmp_path / "metrics.yaml").read_text())
    raw["sources"]["nps"]["freshness"] = {"query": "SELECT TIMESTAMP '2026-11-19 23:00:00'"}
    (tmp_path / "metrics.yaml").write_text(yaml.safe_dump(raw))
    late = MetricJob.fetch(load_config(tmp_path / "metrics.yaml"), "nps", source, END, END).late(
        END
    )
    assert late is not None and late.kind is FindingKind.LATE_DATA
    assert late.period.date() == END
