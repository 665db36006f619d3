"""A run of several metrics keeps no finished metric in memory, and its context stays the same.

Conversion's checkout-bug alert on the demo warehouse reads visits and purchases in its
causes' segments. Run in one order, visits has finished (its cube read back from disk)
and purchases waits for its own run; in the other order the reverse. Both orders give
the same results and the same reports, and each related figure is the one measured on
the other metric's whole cube.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from agent.attribute.context import related_change
from agent.config import Config, load_config
from agent.model import RunResult
from agent.pipeline.metric_run import MetricJob
from agent.pipeline.run import Workspace, open_warehouse, run_in

AS_OF = date(2026, 11, 12)
"""A week into the demo's web checkout bug (conversion, channel=web & device=desktop):
the total has moved by then, and its alert's causes have behavioural context (in its
first days the bug is found in the watched segment device=desktop alone)."""
DIMENSIONS = ["channel", "device", "region", "tier"]
VISITS = "CASE WHEN event_type = 'visit' THEN 1 ELSE 0 END"
COUNTS = {
    name: {"title": name.title(), "source": "activity", "kind": "count", "expr": expr}
    | {"dimensions": DIMENSIONS, "detect": {"anomaly": {"sensitivity": "low"}}}
    for name, expr in (("visits", VISITS), ("purchases", VISITS.replace("visit", "purchase")))
}
ORDERS = (("visits", "conversion", "purchases"), ("purchases", "conversion", "visits"))


@pytest.fixture(scope="module")
def config_path(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("workspace")
    doc = yaml.safe_load((demo / "metrics.yaml").read_text(encoding="utf-8"))
    doc["metrics"] = {"conversion": doc["metrics"]["conversion"]} | COUNTS
    doc["warehouse"] = f"duckdb:///{demo / 'demo' / 'warehouse.duckdb'}"
    (home / "metrics.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    return home / "metrics.yaml"


def _run(config: Config, config_path: Path, order: tuple[str, ...]) -> dict[str, RunResult]:
    """Each metric of ``order`` run in one workspace; none is held once its run is done."""
    results = {}
    with open_warehouse(config, config_path) as source:
        workspace = Workspace(config, source, AS_OF, AS_OF)
        for name in order:
            results[name] = run_in(workspace, name, config_path.parent / "-".join(order))[0]
            assert workspace.held == []
    return results


@pytest.fixture(scope="module")
def runs(config_path: Path) -> list[dict[str, RunResult]]:
    config = load_config(config_path)
    return [_run(config, config_path, order) for order in ORDERS]


def test_the_checkout_bug_alert_reads_visits_and_purchases_in_its_segments(
    runs: list[dict[str, RunResult]],
) -> None:
    related = [r for e in runs[0]["conversion"].explanations for r in e.related]
    assert {r.metric for r in related} == {"visits", "purchases"}
    assert any(r.segment.get("device") == "desktop" for r in related)


def test_the_order_of_the_metrics_changes_no_result_and_no_report(
    runs: list[dict[str, RunResult]], config_path: Path
) -> None:
    first, second = runs
    assert first == second
    reports = [config_path.parent / "-".join(order) / f"{AS_OF}" for order in ORDERS]
    written = sorted(p.name for p in reports[0].glob("*") if p.suffix in (".md", ".json"))
    assert len(written) == 6
    for name in written:
        assert (reports[0] / name).read_bytes() == (reports[1] / name).read_bytes(), name


def test_each_related_figure_is_measured_on_the_whole_cube(
    runs: list[dict[str, RunResult]], config_path: Path
) -> None:
    config = load_config(config_path)
    with open_warehouse(config, config_path) as source:
        cubes = {m: MetricJob.fetch(config, m, source, AS_OF, AS_OF).cube for m in COUNTS}
    for explanation in runs[0]["conversion"].explanations:
        for r in explanation.related:
            whole = related_change(
                cubes[r.metric],
                explanation.finding,
                r.segment,
                dimensions=DIMENSIONS,
                additive=True,
                grain="day",
            )
            assert whole == (r.value_before, r.value_after)
