"""Verdicts on alerts: recorded, and what they change in the next run and its report."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from agent.config import Config
from agent.feedback import (
    FeedbackSpec,
    UnknownEpisode,
    expected_windows,
    false_alarms,
    record_label,
)
from agent.feedback.links import token
from agent.model import Direction, FindingKind, RunResult
from agent.pipeline.run import open_warehouse, run_metric
from agent.store import Store, open_store
from agent.store.keys import episode_id
from agent.store.schema import episodes
from tests.conftest import cx_agent
from tests.insight.conftest import LAST, ONSET

METRIC = "support_contacts"


def add_episode(store: Store, since: datetime, value: float, expected: float) -> str:
    """An earlier alert of METRIC, as the store keeps it."""
    ep_id = episode_id(METRIC, since.toordinal())
    with store.transaction() as conn:
        conn.execute(
            episodes.insert().values(
                id=ep_id,
                metric=METRIC,
                segment={},
                segment_key="",
                status="recovered",
                direction="up",
                since=since,
                last_seen=since,
                periods=3,
                severity="warning",
                peak_score=5.0,
                last_value=value,
                last_expected=expected,
                updated_at=since,
            )
        )
    return ep_id


def run(config: Config, home: Path, store: Store, reports: str) -> tuple[RunResult, str]:
    with open_warehouse(config, home / "metrics.yaml") as source:
        result, files = run_metric(config, METRIC, LAST, source, home / reports, store)
    return result, files.md.read_text(encoding="utf-8")


def change_points(result: RunResult) -> list[float]:
    return [
        e.finding.value - e.finding.expected
        for e in result.explanations
        if e.finding.kind == FindingKind.CHANGE_POINT
    ]


def test_three_false_alarms_and_the_next_equal_move_no_longer_alerts(
    config: Config, home: Path
) -> None:
    store = open_store(config.store, base_dir=home)
    first, _ = run(config, home, store, "before")
    [shift] = change_points(first)
    assert shift > 100  # the jump from ~1000 to ~1300 contacts a day alerts
    for month in (12, 1, 2):
        since = datetime(2025 if month == 12 else 2026, month, 8)
        record_label(store, add_episode(store, since, 1000 + shift, 1000), "false")
    assert len(false_alarms(store, METRIC)) == 3

    again, report = run(config, home, store, "after")
    assert change_points(again) == []
    assert "Sensitivity lowered after 3 false alarms: a change point now needs a shift" in report
    store.close()


def test_only_each_episodes_latest_verdict_counts(config: Config, home: Path) -> None:
    store = open_store(config.store, base_dir=home)
    ep = add_episode(store, datetime(2026, 1, 5), 1200, 1000)
    record_label(store, ep, "false", now=datetime(2026, 1, 6))
    record_label(store, ep, "true", note="it was real", now=datetime(2026, 1, 7))
    assert false_alarms(store, METRIC) == []
    with pytest.raises(UnknownEpisode):
        record_label(store, "nope|x|2026-01-01T00:00:00", "false")
    with pytest.raises(ValueError, match="use one of true, false, expected"):
        record_label(store, ep, "maybe")
    store.close()


def test_an_expected_move_is_not_alerted_while_its_window_lasts(config: Config, home: Path) -> None:
    store = open_store(config.store, base_dir=home)
    first, _ = run(config, home, store, "before")
    episode = next(e.episode for e in first.explanations if e.episode is not None)
    ep_id = episode.id
    assert ep_id == f"{METRIC}#1"  # the first incident the store recorded
    window = (date(2026, 3, 10), date(2026, 3, 31))
    record_label(store, ep_id, "expected", note="spring price change", window=window)
    assert [(w.direction, w.start, w.end) for w in expected_windows(store, METRIC)] == [
        (Direction.UP, *window)
    ]

    again, report = run(config, home, store, "after")
    assert again.explanations == []
    assert "was marked expected by the team, and is not alerted. spring price change" in report
    store.close()


def test_the_command_line_records_a_verdict(config: Config, home: Path) -> None:
    store = open_store(config.store, base_dir=home)
    ep = add_episode(store, datetime(2026, 2, 2), 1300, 1000)
    store.close()
    done = cx_agent("feedback", ep, "--label", "false", "--note", "promo traffic", cwd=home)
    assert done.code == 0, done.err
    assert done.out.strip() == f"{METRIC}: {ep} marked false"
    store = open_store(config.store, base_dir=home)
    assert [a.episode_id for a in false_alarms(store, METRIC)] == [ep]
    store.close()
    unknown = cx_agent("feedback", "nope", "--label", "false", cwd=home)
    assert unknown.code == 3 and "no alert 'nope'" in unknown.err
    window = cx_agent("feedback", ep, "--label", "true", "--from", str(ONSET), cwd=home)
    assert window.code == 3 and "--from/--to go with --label expected" in window.err


def test_alerts_carry_feedback_links_when_the_endpoint_is_served(
    config: Config, home: Path
) -> None:
    secret = "another-long-test-secret-0123456789"
    served = config.model_copy(update={"feedback": FeedbackSpec(serve=True, secret=secret)})
    store = open_store(config.store, base_dir=home)
    result, _ = run(served, home, store, "reports")
    explanation = next(e for e in result.explanations if e.episode is not None)
    ep_id = explanation.episode.id
    assert list(explanation.feedback_links) == ["true", "false", "expected"]
    assert f"token={token(secret, ep_id, 'false')}" in explanation.feedback_links["false"]
    store.close()
