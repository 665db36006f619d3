"""An incident keeps its id while later runs re-date its onset or see it in more segments,
and a store made by an older cx-agent is upgraded in place, its episodes and threads kept."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from agent.feedback import false_alarms, record_label
from agent.message import AlertMessage
from agent.model import (
    Direction,
    Episode,
    EpisodeStatus,
    Explanation,
    Finding,
    FindingKind,
    RunResult,
    Severity,
)
from agent.notify.base import Decision
from agent.notify.outbox import NotifyPolicy, enqueue
from agent.store import Store, open_store
from agent.store.identity import identify
from agent.store.queries import episode_history
from agent.store.runs import RunRecord, record_run
from agent.store.schema import SCHEMA_VERSION, deliveries, episodes

WEB, DESKTOP = {"channel": "web"}, {"device": "desktop"}
HOW = RunRecord(datetime(2026, 11, 21), datetime(2026, 11, 21), None)
OLD_ID = "conversion|channel=web|2026-11-18T00:00:00"
"""The id a store of schema 1 gave the web episode of ``data/schema1.sql``."""


def day(n: int) -> datetime:
    return datetime(2026, 11, n)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'state.db'}")


def replayed(
    first: int,
    last: int,
    *segments: dict[str, str],
    since: int | None = None,
    status: EpisodeStatus = EpisodeStatus.ONGOING,
) -> Episode:
    """An episode as a run's replay names it: provisionally, after its first period."""
    return Episode(
        metric="conversion",
        segment=segments[0],
        status=status,
        since=day(since or first),
        last_seen=day(last),
        periods=last - first + 1,
        severity=Severity.CRITICAL,
        direction=Direction.DOWN,
        id=f"conversion|replay|{first}|{segments}",
        segments=segments,
        first_seen=day(first),
    )


def record(store: Store, ep: Episode) -> str:
    """Record a run of ``ep``'s last period under the id the store gives it."""
    ep = replace(ep, id=identify(store, "conversion", [ep])[ep.id])
    finding = Finding(
        "conversion", ep.segment, FindingKind.ANOMALY, ep.last_seen, 0.11, 0.15, 0.13, 0.17,
        Direction.DOWN, Severity.CRITICAL, 4.0, ep.since,
    )  # fmt: skip
    run = RunResult(
        "conversion", "Conversion", ep.last_seen, 0.11, [Explanation(finding, [], 1, ep)], []
    )
    record_run(store, run, HOW)
    return ep.id


def test_an_onset_dated_earlier_keeps_the_incident_id(store: Store) -> None:
    first = record(store, replayed(18, 18, WEB, status=EpisodeStatus.NEW))
    again = record(store, replayed(18, 19, WEB, since=12))  # the change point re-dates it
    assert first == again == "conversion#1"
    [row] = episode_history(store, "conversion")
    assert (row.id, row.since, row.last_seen, row.status) == (first, day(12), day(19), "ongoing")


def test_a_segment_joining_later_stays_in_the_incident_and_is_named(store: Store) -> None:
    first = record(store, replayed(18, 18, WEB, status=EpisodeStatus.NEW))
    assert record(store, replayed(18, 20, WEB, {}, DESKTOP)) == first
    [row] = episode_history(store, "conversion")
    assert row.segments == [WEB, {}, DESKTOP]


def test_after_a_recovery_the_same_segment_is_a_new_incident(store: Store) -> None:
    first = record(store, replayed(10, 12, WEB, status=EpisodeStatus.RECOVERED))
    later = record(store, replayed(18, 18, WEB, since=9, status=EpisodeStatus.NEW))
    assert (first, later) == ("conversion#1", "conversion#2")


def test_segments_that_share_no_customers_are_other_incidents(store: Store) -> None:
    web = record(store, replayed(18, 18, WEB, status=EpisodeStatus.NEW))
    app = record(store, replayed(18, 18, {"channel": "app"}, status=EpisodeStatus.NEW))
    assert web != app


def test_two_recorded_stories_that_prove_one_incident_become_one_thread(store: Store) -> None:
    web = record(store, replayed(18, 18, WEB, status=EpisodeStatus.NEW))
    record(store, replayed(18, 18, DESKTOP, status=EpisodeStatus.NEW))
    assert record(store, replayed(18, 19, WEB, DESKTOP)) == web
    assert [(r.id, r.status) for r in episode_history(store, "conversion")] == [(web, "ongoing")]


def test_a_store_of_schema_1_is_upgraded_and_its_threads_go_on(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript((Path(__file__).parent / "data" / "schema1.sql").read_text())
    store = open_store(f"sqlite:///{path}")
    assert store.schema_version() == SCHEMA_VERSION
    assert len(store.install_id()) == 16
    [row] = episode_history(store, "conversion")
    assert (row.id, row.since, row.segments) == (OLD_ID, day(18), None)
    # the same incident, its onset now dated earlier and seen on desktop too
    assert record(store, replayed(19, 22, WEB, DESKTOP, since=15)) == OLD_ID
    [row] = episode_history(store, "conversion")
    assert (row.since, row.segments) == (day(15), [WEB, DESKTOP])
    record_label(store, OLD_ID, "false", note="still labelled by its old id")
    assert [a.episode_id for a in false_alarms(store, "conversion")] == [OLD_ID]
    # its channel hears an update in the old thread, not a second "new"
    msg = AlertMessage(
        OLD_ID, "conversion", "Conversion", WEB, "2026-11-22T00:00:00+09:00", "ongoing",
        "critical", "Critical · Conversion", "Conversion fell further.", [], [], 0.08,
    )  # fmt: skip
    assert enqueue(store, {"log": [msg]}, now=day(23), policy=NotifyPolicy()) == 1
    with store.engine.connect() as conn:
        rows = conn.execute(select(deliveries.c.decision, deliveries.c.group_key)).all()
        assert conn.execute(select(episodes.c.id)).scalars().all() == [OLD_ID]
    assert [r.decision for r in rows] == ["new", str(Decision.UPDATE_IN_THREAD)]
    assert rows[1].group_key.endswith(f"|re:{rows[0].group_key}")
