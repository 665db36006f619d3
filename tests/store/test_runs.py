"""A run is recorded whole or not at all, once per (metric, period)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from agent.model import (
    Cause,
    Direction,
    Episode,
    EpisodeStatus,
    Explanation,
    Finding,
    FindingKind,
    RunResult,
    Severity,
)
from agent.store import Store, open_store
from agent.store.queries import episode_history, metric_status
from agent.store.runs import RunRecord, record_failure, record_run
from agent.store.schema import causes, deliveries, episodes, findings, runs

DAY = datetime(2026, 11, 20)
SINCE = datetime(2026, 11, 18)
HOW = RunRecord(datetime(2026, 11, 21, 0, 5), datetime(2026, 11, 21, 0, 6), "2026-11-20/x.html")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'state.db'}")


def _finding(kind: FindingKind = FindingKind.ANOMALY, value: float = 0.11) -> Finding:
    return Finding(
        metric="conversion",
        segment={},
        kind=kind,
        period=DAY,
        value=value,
        expected=0.15,
        lower=0.13,
        upper=0.17,
        direction=Direction.DOWN,
        severity=Severity.CRITICAL,
        score=-4.0,
        since=SINCE,
    )


def _run(status: EpisodeStatus = EpisodeStatus.NEW, value: float = 0.11) -> RunResult:
    episode = Episode(
        "conversion", {}, status, SINCE, DAY, 3, Severity.CRITICAL, Direction.DOWN,
        id="conversion#1", segments=({},), first_seen=SINCE,
    )  # fmt: skip
    cause = Cause({"device": "android"}, 0.8, 0.15, 0.05, 900, 880, -0.03, 0.0, 0.99)
    explanation = Explanation(_finding(value=value), [cause], 0.8, episode)
    return RunResult("conversion", "Conversion", DAY, value, [explanation], [])


def _count(store: Store, table) -> int:  # type: ignore[no-untyped-def]
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_recording_a_period_again_replaces_it(store: Store) -> None:
    record_run(store, _run(EpisodeStatus.NEW, 0.11), HOW)
    record_run(store, _run(EpisodeStatus.ONGOING, 0.10), HOW)
    assert [_count(store, t) for t in (runs, findings, causes, episodes)] == [1, 1, 1, 1]
    with store.engine.connect() as conn:
        run = conn.execute(select(runs)).one()
        episode = conn.execute(select(episodes)).one()
    assert (run.status, run.severity, run.value) == ("findings", "critical", 0.10)
    assert episode.id == "conversion#1"
    assert (episode.status, episode.last_value, episode.peak_score) == ("ongoing", 0.10, 4.0)


def test_a_run_that_fails_half_way_leaves_the_previous_one(store: Store) -> None:
    record_run(store, _run(), HOW)
    broken = _run()
    broken.explanations[0].causes.append("not a cause")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        record_run(store, broken, HOW)
    assert [_count(store, t) for t in (runs, findings, causes)] == [1, 1, 1]


def test_history_lists_the_episodes(store: Store) -> None:
    record_run(store, _run(), HOW)
    [row] = episode_history(store, "conversion")
    assert (row.since, row.last_seen, row.status, row.segment_key) == (SINCE, DAY, "new", "")


def test_status_counts_failures_in_a_row_and_a_success_resets_them(store: Store) -> None:
    assert record_failure(store, "conversion", "warehouse down", HOW.started_at) == 1
    assert record_failure(store, "conversion", "warehouse down", HOW.started_at) == 2
    [row] = metric_status(store, ["conversion"], HOW.finished_at)
    assert row.stuck == [
        "the latest run failed (serve, 2026-11-21 00:05 UTC, 2 in a row): warehouse down"
    ]
    record_run(store, _run(), HOW)
    [row] = metric_status(store, ["conversion"], HOW.finished_at)
    assert (row.stuck, row.last_period, row.last_status, row.open_episodes) == (
        [],
        DAY,
        "findings",
        1,
    )
    assert (row.last_failure, row.last_error) == (HOW.started_at, "warehouse down")


def test_status_calls_failed_and_expired_deliveries_stuck(store: Store) -> None:
    record_run(store, _run(), HOW)
    expiry = {"pending": datetime(2026, 11, 20), "failed": datetime(2026, 12, 1)}
    with store.transaction() as conn:
        for n, (state, expires) in enumerate(expiry.items()):
            conn.execute(
                deliveries.insert().values(
                    dedup_key=f"k{n}",
                    group_key=f"g{n}",
                    channel="cx-slack",
                    metric="conversion",
                    decision="new",
                    status=state,
                    payload={},
                    created_at=HOW.started_at,
                    expires_at=expires,
                )
            )
    [row] = metric_status(store, ["conversion"], HOW.finished_at)
    assert (row.pending_deliveries, row.failed_deliveries) == (1, 1)
    assert row.stuck == ["2 alert deliveries failed or expired"]


def test_an_episode_dated_earlier_keeps_its_id_and_its_row(store: Store) -> None:
    record_run(store, _run(), HOW)
    earlier = _run(EpisodeStatus.ONGOING)
    episode = replace(earlier.explanations[0].episode, since=datetime(2026, 11, 16))
    earlier.explanations[0] = replace(earlier.explanations[0], episode=episode)
    record_run(store, earlier, HOW)
    assert [(r.id, r.since, r.status) for r in episode_history(store, "conversion")] == [
        ("conversion#1", datetime(2026, 11, 16), "ongoing")
    ]
    [row] = metric_status(store, ["conversion"], HOW.finished_at)
    assert row.open_episodes == 1


def test_status_calls_a_scheduled_run_that_did_not_come_stuck(store: Store) -> None:
    """serve keeps its schedule in the store: a run due over LATE ago means it is down."""
    jobs = SQLAlchemyJobStore(engine=store.engine)
    scheduler = BackgroundScheduler(jobstores={"default": jobs}, timezone="UTC")
    scheduler.start(paused=True)
    due = datetime(2099, 11, 21, 0, 0, tzinfo=UTC)  # in the future: the scheduler leaves it
    scheduler.add_job(print, "cron", hour=0, id="conversion", next_run_time=due)
    scheduler.shutdown()

    [on_time] = metric_status(store, ["conversion"], datetime(2099, 11, 21, 0, 4))
    [late] = metric_status(store, ["conversion"], datetime(2099, 11, 21, 0, 6))

    assert on_time.stuck == []
    assert late.stuck == [
        "the run scheduled for 2099-11-21 00:00 UTC has not run: is `cx-agent serve` up?"
    ]
