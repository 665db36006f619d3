"""A metric without dimensions: its alert names the known event at its onset.

Such a metric has no causes to search; its explanation still carries the behavioural
context (related metrics, known events), each in its own field: the events once landed
in ``ruled_out``, which lists dimension values, and the report never showed them.
"""

from __future__ import annotations

from pathlib import Path

from agent.config import load_config
from agent.model import FindingKind
from agent.pipeline.run import open_warehouse, run_metric
from agent.store import open_store
from tests.insight.conftest import LAST, ONSET

EVENTS = f"""
events:
  - {{name: New phone menu, start: {ONSET}, kind: release}}
"""


def test_the_alert_of_a_metric_without_dimensions_names_the_event_at_its_onset(
    home: Path,
) -> None:
    path = home / "metrics.yaml"
    text = path.read_text(encoding="utf-8").replace("    dimensions: [channel]\n", "")
    path.write_text(text + EVENTS, encoding="utf-8")
    config = load_config(path)
    store = open_store(config.store, base_dir=home)
    with open_warehouse(config, path) as source:
        result, files = run_metric(config, "support_contacts", LAST, source, home / "r", store)
    store.close()
    [alert] = [e for e in result.explanations if e.finding.kind == FindingKind.CHANGE_POINT]
    assert alert.causes == [] and alert.checked == [] and alert.ruled_out == []
    assert [(e.name, e.start.date()) for e in alert.events] == [("New phone menu", ONSET)]
    assert "New phone menu" in files.md.read_text(encoding="utf-8")
