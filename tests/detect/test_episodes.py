"""Alert policy: findings of successive periods become one episode per metric x segment."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from agent.detect.episodes import AlertPolicy, EpisodeTracker, recovered_finding
from agent.model import Direction, EpisodeStatus, Finding, FindingKind, Note, Severity

DAY0 = datetime(2026, 11, 1)


def day(n: int) -> datetime:
    return DAY0 + timedelta(days=n)


def finding(
    n: int,
    segment: dict[str, str] | None = None,
    kind: FindingKind = FindingKind.ANOMALY,
    severity: Severity = Severity.WARNING,
) -> Finding:
    return Finding(
        metric="conversion",
        segment=segment or {},
        kind=kind,
        period=day(n),
        value=0.15,
        expected=0.20,
        lower=0.18,
        upper=0.22,
        direction=Direction.DOWN,
        severity=severity,
        score=2.0,
        since=day(n),
    )


def replay(
    days: list[list[Finding] | None], warm: bool = False, **policy: int
) -> list[tuple[list[str], list[str]]]:
    """Status of each period's findings and of the episodes that recovered in it."""
    tracker = EpisodeTracker(AlertPolicy(**policy), warm=warm)
    out = []
    for n, found in enumerate(days):
        episodes, recovered = tracker.step(day(n), found)
        out.append(([e.status.value for e in episodes], [e.status.value for e, _ in recovered]))
    return out


def test_a_lasting_move_alerts_once_then_updates_then_recovers() -> None:
    days = [[finding(0)], [finding(1)], [finding(2)], [], [], []]
    assert replay(days, recover_after=3) == [
        (["new"], []),
        (["ongoing"], []),
        (["ongoing"], []),
        ([], []),
        ([], []),
        ([], ["recovered"]),
    ]


def test_min_periods_holds_the_alert_until_the_move_lasts() -> None:
    days = [[finding(0)], [], [finding(2)], [finding(3)], [finding(4)]]
    statuses = [s for s, _ in replay(days, min_periods=2, recover_after=1)]
    assert statuses == [["pending"], [], ["pending"], ["new"], ["ongoing"]]


def test_a_pending_episode_that_stops_closes_without_a_recovery() -> None:
    days = [[finding(0)], [], []]
    assert replay(days, min_periods=2, recover_after=2) == [(["pending"], []), ([], []), ([], [])]


def test_unjudged_periods_neither_extend_nor_close() -> None:
    days = [[finding(0)], None, None, None, [finding(4)]]
    statuses = [s for s, _ in replay(days, recover_after=1)]
    assert statuses == [["new"], [], [], [], ["ongoing"]]


def test_segments_that_cannot_share_customers_have_their_own_episodes() -> None:
    web, app = {"channel": "web"}, {"channel": "app"}
    days = [[finding(0, web)], [finding(1, web), finding(1, app)]]
    assert [s for s, _ in replay(days)] == [["new"], ["ongoing", "new"]]


def test_overlapping_segments_moving_together_are_one_incident() -> None:
    """The web checkout bug: the total, channel=web and device=desktop fall at once, and
    region=Busan a few days later: one alert that names every segment, not four."""
    web, desktop, busan = {"channel": "web"}, {"device": "desktop"}, {"region": "Busan"}
    tracker = EpisodeTracker(AlertPolicy(), warm=False)
    first, _ = tracker.step(day(0), [finding(0, web), finding(0, desktop)])
    second, _ = tracker.step(day(1), [finding(0), finding(0, web)])
    third, _ = tracker.step(day(3), [finding(3, busan)])
    assert [e.status.value for e in first] == ["new", "new"]
    assert first[0] is first[1]
    assert [e.status.value for e in second + third] == ["ongoing"] * 3
    assert len({e.id for e in first + second + third}) == 1
    assert third[0].segments == (web, desktop, {}, busan)
    assert third[0].segment == web  # named by the segment it was first seen in


def test_an_overlapping_segment_with_a_distant_onset_is_another_incident() -> None:
    android = {"device": "android"}
    tracker = EpisodeTracker(AlertPolicy(), warm=False, onset_window=timedelta(days=7))
    tracker.step(day(0), [finding(0)])
    tracker.step(day(5), [finding(5)])
    (later,), _ = tracker.step(day(9), [finding(9, android)])
    assert later.status is EpisodeStatus.NEW and later.segments == (android,)


def test_a_move_the_other_way_is_another_incident() -> None:
    up = replace(finding(1, {"device": "ios"}), direction=Direction.UP)
    tracker = EpisodeTracker(AlertPolicy(), warm=False)
    tracker.step(day(0), [finding(0)])
    (other,), _ = tracker.step(day(1), [up])
    assert other.status is EpisodeStatus.NEW and other.direction is Direction.UP


def test_info_findings_never_alert() -> None:
    days = [[finding(0, severity=Severity.INFO)], [finding(1, severity=Severity.CRITICAL)]]
    tracker = EpisodeTracker(AlertPolicy(), warm=False)
    first, _ = tracker.step(day(0), days[0])
    second, _ = tracker.step(day(1), days[1])
    assert first[0].status is EpisodeStatus.PENDING
    assert second[0].status is EpisodeStatus.NEW
    assert second[0].severity is Severity.CRITICAL and second[0].periods == 2
    assert second[0].since == day(0)


def test_a_warm_start_treats_the_first_periods_findings_as_already_alerted() -> None:
    assert replay([[finding(0)], [finding(1)]], warm=True) == [(["ongoing"], []), (["ongoing"], [])]


def test_a_warm_start_does_not_hide_an_info_story_that_turns_into_a_warning() -> None:
    info, warning = finding(0, severity=Severity.INFO), finding(1, severity=Severity.WARNING)
    assert replay([[info], [warning]], warm=True) == [(["pending"], []), (["new"], [])]


def test_no_recovery_while_the_value_stays_outside_the_first_band() -> None:
    tracker = EpisodeTracker(AlertPolicy(recover_after=1), warm=False)
    tracker.step(day(0), [finding(0)])
    still_low = tracker.step(day(1), [], normal=lambda first: False)
    back = tracker.step(day(2), [], normal=lambda first: True)
    assert still_low == ([], [])
    ((episode, first),) = back[1]
    assert episode.status is EpisodeStatus.RECOVERED and first == finding(0)


def test_late_data_is_its_own_episode_and_pauses_the_metrics() -> None:
    late = finding(1, kind=FindingKind.LATE_DATA)
    tracker = EpisodeTracker(AlertPolicy(recover_after=1), warm=False)
    tracker.step(day(0), [finding(0)])
    episodes, recovered = tracker.step(day(1), [late])
    assert [e.status for e in episodes] == [EpisodeStatus.NEW] and recovered == []
    _, recovered = tracker.step(day(2), [])
    assert sorted(f.kind for _, f in recovered) == [FindingKind.ANOMALY, FindingKind.LATE_DATA]


def test_the_recovered_finding_says_what_it_is_back_to() -> None:
    tracker = EpisodeTracker(AlertPolicy(recover_after=1), warm=False)
    tracker.step(day(0), [finding(0)])
    tracker.step(day(1), [finding(1, severity=Severity.CRITICAL)])
    _, [(episode, first)] = tracker.step(day(2), [])
    done = recovered_finding(episode, first, day(2), 0.21)
    assert done.kind is FindingKind.RECOVERED and done.severity is Severity.INFO
    assert (done.value, done.expected, done.lower, done.upper) == (0.21, 0.20, 0.18, 0.22)
    assert done.since == day(0)
    assert done.reason == Note("reason_recovered", {"periods": 2, "severity": "critical"})
