"""``cx-agent serve`` survives kills and downtime, waits for late data, runs alone."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from agent.config.durations import cron_trigger
from tests.conftest import cx_agent
from tests.schedule.conftest import (
    METRICS,
    Serve,
    deliveries_made,
    make_home,
    ran,
    recorded,
    recorded_findings,
    yesterday,
)


def _report_findings(home: Path, day: str) -> list[tuple[str, object, str, str]]:
    """(metric, period, kind, segment) of every finding in the reports of ``day``."""
    out = []
    for metric in METRICS:
        report = json.loads((home / "reports" / day / f"{metric}.json").read_text())
        for f in report["findings"]:
            segment = json.dumps(f["segment"], sort_keys=True)
            out.append((metric, datetime.fromisoformat(f["period"]).date(), f["kind"], segment))
    return sorted(out)


def test_killed_mid_run_and_restarted_each_period_is_recorded_once(
    tmp_path: Path, serve: Callable[..., Serve]
) -> None:
    day = yesterday()
    make_home(tmp_path, day)
    first = serve(tmp_path, "--every", "3")
    first.wait_for(lambda events: any(e["event"] == "start" for e in events))
    first.stop(signal.SIGKILL)
    assert first.events("run") == []  # killed before any run was recorded

    second = serve(tmp_path, "--every", "3")
    second.wait_for(lambda events: all(ran(m, 2)(events) for m in METRICS))
    assert second.stop() == 0
    assert second.events()[-1]["event"] == "stopped"
    assert recorded(tmp_path) == [("conversion", day, "ok"), ("nps", day, "findings")]
    found = recorded_findings(tmp_path)
    assert found == _report_findings(tmp_path, day.isoformat())
    assert ("nps", day, "threshold", "{}") in found
    # the threshold episode alerted once, though its period ran several times and was killed
    sent = deliveries_made(tmp_path)
    assert [(channel, decision, status) for channel, _, decision, status in sent] == [
        ("outbox", "new", "sent")
    ]


def test_after_two_days_down_each_metric_catches_up_once(
    tmp_path: Path, serve: Callable[..., Serve]
) -> None:
    day = yesterday()
    config = make_home(tmp_path, day)
    before = (day - timedelta(days=2)).isoformat()
    assert cx_agent("run", "--once", "--as-of", before, cwd=tmp_path).code in (0, 1, 2)
    # the schedule as serve left it two days ago: each job due at 09:00 two days back
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{tmp_path}/state/cx-agent.db")}
    )
    scheduler.start(paused=True)
    due = datetime.now(UTC) - timedelta(days=2)
    for metric in METRICS:
        scheduler.add_job(
            "agent.schedule.jobs:run_job",
            cron_trigger("0 9 * * *", "UTC"),
            args=[str(config), metric],
            id=metric,
            next_run_time=due,
        )
    scheduler.shutdown()

    running = serve(tmp_path)
    running.wait_for(lambda events: all(ran(m)(events) for m in METRICS))
    time.sleep(5)  # a second catch-up would show now
    assert running.stop() == 0
    caught_up = f"{(day - timedelta(days=1)).isoformat()}..{day.isoformat()}"
    assert sorted((e["metric"], e["period"]) for e in running.events("run")) == [
        ("conversion", caught_up),
        ("nps", caught_up),
    ]
    periods = [(m, p) for m, p, _ in recorded(tmp_path)]
    assert periods == [(m, day - timedelta(days=n)) for m in sorted(METRICS) for n in (2, 1, 0)]
    status = cx_agent("status", cwd=tmp_path)
    assert status.code == 0, status.out + status.err
    assert f"nps                      {day.isoformat()}" in status.out
    assert before not in status.out


def test_a_missing_last_day_is_data_late_and_no_drop(
    tmp_path: Path, serve: Callable[..., Serve]
) -> None:
    day = yesterday()
    make_home(tmp_path, day - timedelta(days=1), freshness="{wait: 2s, retry: 1s}")
    running = serve(tmp_path, "--every", "3")
    running.wait_for(lambda events: all(ran(m)(events) for m in METRICS))
    assert running.stop() == 0
    late = running.events("data_late")
    assert {e["metric"] for e in late} == set(METRICS)
    assert recorded(tmp_path) == [("conversion", day, "late"), ("nps", day, "late")]
    assert recorded_findings(tmp_path) == [
        ("conversion", day, "late_data", "{}"),
        ("nps", day, "late_data", "{}"),
    ]


def test_one_serve_per_store_and_metrics_yaml_reloads(
    tmp_path: Path, serve: Callable[..., Serve]
) -> None:
    config = make_home(tmp_path, yesterday())
    running = serve(tmp_path, "--every", "600")
    running.wait_for(lambda events: any(e["event"] == "serving" for e in events))

    second = cx_agent("serve", cwd=tmp_path)
    assert second.code == 4
    assert second.err.startswith(
        f"error: another cx-agent serve (pid {running.proc.pid}) is already running on "
    )

    config.write_text(config.read_text().split("  conversion:")[0])
    running.wait_for(lambda events: any(e["event"] == "reloaded" for e in events))
    assert [e["metric"] for e in running.events("unscheduled")] == ["conversion"]
    running.proc.send_signal(signal.SIGHUP)
    running.wait_for(lambda events: len([e for e in events if e["event"] == "reloaded"]) == 2)
    assert running.events("reloaded")[-1]["reason"] == "SIGHUP"

    good = config.read_text()
    config.write_text(_with_warehouse(good, "mysql://cx@db/cx"))
    running.wait_for(lambda events: any(e["event"] == "reload_failed" for e in events))
    assert (
        "warehouse: scheme 'mysql' is not supported" in running.events("reload_failed")[0]["error"]
    )
    assert len(running.events("unscheduled")) == 1  # the old schedule stays
    assert running.stop(signal.SIGINT) == 0


def test_serve_does_not_start_on_a_warehouse_url_it_cannot_open(tmp_path: Path) -> None:
    config = make_home(tmp_path, yesterday())
    config.write_text(_with_warehouse(config.read_text(), "mysql://cx@db/cx"))
    result = cx_agent("serve", cwd=tmp_path)
    assert result.code == 3 and result.out == ""
    assert result.err.startswith("metrics.yaml:")
    assert "warehouse: scheme 'mysql' is not supported" in result.err


def _with_warehouse(text: str, url: str) -> str:
    lines = [f"warehouse: {url}" if x.startswith("warehouse:") else x for x in text.splitlines()]
    return "\n".join(lines) + "\n"


def test_a_broken_source_fails_only_its_metric_and_status_says_why(
    tmp_path: Path, serve: Callable[..., Serve]
) -> None:
    config = make_home(tmp_path, yesterday())
    text = config.read_text()
    config.write_text(text.replace("table: customer_nps,", "table: customer_npss,"))
    running = serve(tmp_path, "--every", "3")
    running.wait_for(
        lambda events: ran("conversion", 2)(events) and bool(running.events("run_failed"))
    )
    assert running.stop() == 0
    status = cx_agent("status", cwd=tmp_path)

    failed = running.events("run_failed")[0]
    assert (failed["metric"], failed["error"]) == (
        "nps",
        "while finding the newest data of source 'nps': table customer_npss not found in "
        "warehouse.duckdb — did you mean customer_nps?",
    )
    assert not [e for e in running.events("run_failed") if e["metric"] == "conversion"]
    assert status.code == 1
    [stuck] = [line for line in status.out.splitlines() if line.startswith("STUCK")]
    assert stuck.startswith("STUCK nps: the latest run failed (serve, ")
    assert stuck.endswith("did you mean customer_nps?")


def test_a_warehouse_gone_is_one_error_and_its_return_is_logged(
    tmp_path: Path, serve: Callable[..., Serve]
) -> None:
    day = yesterday()
    make_home(tmp_path, day)
    warehouse = tmp_path / "warehouse.duckdb"
    kept = warehouse.rename(tmp_path / "kept.duckdb")
    running = serve(tmp_path, "--every", "3")
    running.wait_for(lambda events: len([e for e in events if e["event"] == "run_failed"]) >= 4)
    kept.rename(warehouse)
    running.wait_for(lambda events: all(ran(m)(events) for m in METRICS))
    assert running.stop() == 0

    [down] = running.events("warehouse_unreachable")
    failed = running.events("run_failed")
    assert down["level"] == "error" and f"DuckDB file {warehouse} does not exist" in down["error"]
    assert {e["metric"] for e in failed} == set(METRICS)
    assert {e["level"] for e in failed} == {"warning"}  # the one error is the outage
    assert len(running.events("warehouse_reachable")) == 1
