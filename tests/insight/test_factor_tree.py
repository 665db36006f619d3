"""A product metric on the demo warehouse: its report says which factor moved."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from agent.config import load_config
from agent.model import EpisodeStatus
from agent.pipeline.run import Workspace, open_warehouse, replay_metric
from agent.sources.demo import read_ground_truth

VISITS = "CASE WHEN event_type = 'visit' THEN 1 ELSE 0 END"
PRODUCT = {
    "visits": {"title": "Visits", "source": "activity", "kind": "count", "expr": VISITS},
    "purchases": {
        "title": "Purchases",
        "source": "activity",
        "kind": "count",
        "expr": VISITS.replace("visit", "purchase"),
        "dimensions": ["channel", "device"],
        "factors": ["visits", "conversion"],  # purchases = visits × purchases per visit
        "detect": {"anomaly": {"sensitivity": "medium"}},
    },
}


def test_purchases_fall_with_the_app_release_and_visits_is_the_factor_that_moved(
    demo: Path, tmp_path: Path
) -> None:
    doc = yaml.safe_load((demo / "metrics.yaml").read_text(encoding="utf-8"))
    doc["metrics"] |= PRODUCT
    doc["warehouse"] = f"duckdb:///{demo / 'demo' / 'warehouse.duckdb'}"
    (tmp_path / "metrics.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    config = load_config(tmp_path / "metrics.yaml")
    incidents = read_ground_truth(demo / "demo" / "incidents.json")
    release = next(i for i in incidents if i.metric == "revisit_rate").onset
    with open_warehouse(config, tmp_path / "metrics.yaml") as source:
        workspace = Workspace(config, source, release, release + timedelta(days=3))
        runs = replay_metric(workspace, "purchases", tmp_path / "reports")
    run, alert = next(
        (r, e)
        for r in runs
        for e in r.explanations
        if e.episode and e.episode.status is EpisodeStatus.NEW
    )
    assert alert.finding.direction == "down"
    assert [f.metric for f in alert.factors] == ["visits", "conversion"]
    visits = alert.factors[0]
    assert visits.value_after < visits.value_before and visits.share > 0.9
    assert sum(f.share for f in alert.factors) == pytest.approx(1.0)
    report = (tmp_path / "reports" / f"{run.period:%Y-%m-%d}" / "purchases.md").read_text()
    table = report.split("### Which factor moved", 1)[1]
    assert table.index("Visits") < table.index("Conversion rate")
