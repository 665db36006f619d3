"""The customers behind premium churn: exactly the lapsed premium customers of the cause."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import duckdb

from agent.config import load_config
from agent.model import EpisodeStatus
from agent.pipeline.run import Workspace, open_warehouse, replay_metric
from tests.insight.conftest import DEMO_END as END


def lapsed(warehouse: Path, period: date, region: str) -> set[int]:
    """Premium customers of ``region`` active 15–28 days before the period's end and not
    in the 14 days up to it, straight from the raw tables."""
    end = period + timedelta(days=1)
    sql = """
        SELECT DISTINCT e.customer_id FROM events e JOIN customers c USING (customer_id)
        WHERE c.tier = 'premium' AND c.region = ?
          AND e.event_time >= ? AND e.event_time < ?
          AND e.customer_id NOT IN (
            SELECT customer_id FROM events WHERE event_time >= ? AND event_time < ?)
    """
    window = timedelta(days=14)
    args = [region, end - 2 * window, end - window, end - window, end]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {row[0] for row in con.execute(sql, args).fetchall()}


def test_the_churn_alert_lists_exactly_the_lapsed_customers_of_its_cause(demo: Path) -> None:
    config = load_config(demo / "metrics.yaml")
    reports = demo / "reports"
    with open_warehouse(config, demo / "metrics.yaml") as source:
        workspace = Workspace(config, source, END - timedelta(days=28), END)
        runs = replay_metric(workspace, "premium_churn", reports)
    alert = next(
        (run, e)
        for run in runs
        for e in run.explanations
        if e.episode is not None and e.episode.status is EpisodeStatus.NEW
    )
    run, explanation = alert
    export = explanation.exports[0]
    assert export.segment == {"region": "Busan"} == explanation.causes[0].segment
    period = run.period.date()
    assert export.path == f"{period}/premium_churn-region-Busan.csv"
    with (reports / export.path).open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    columns = ["customer_id", "last_activity", "tier", "region", "acquisition", "signup_date"]
    assert list(rows[0]) == columns == export.columns
    assert {int(r["customer_id"]) for r in rows} == lapsed(
        demo / "demo" / "warehouse.duckdb", period, "Busan"
    )
    assert export.rows == len(rows) and {r["tier"] for r in rows} == {"premium"}
