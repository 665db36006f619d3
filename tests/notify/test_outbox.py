"""decide(): what a channel is told about an episode in a run — a pure table."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from agent.model import Severity
from agent.notify import Decision, NotifyPolicy, decide
from agent.notify.outbox import LastDelivery
from tests.notify.conftest import alert

NOW = datetime(2026, 11, 23, 9, 0)
WEEK1 = "2026-11-16T00:00:00+09:00"
WEEK2 = "2026-11-23T00:00:00+09:00"
POLICY = NotifyPolicy(worse_by=0.5, remind_after=timedelta(days=7))


def told(decision: Decision = Decision.NEW, *, days_ago: int = 1, deviation: float = 0.04):
    return LastDelivery(
        decision=decision,
        period=WEEK1,
        severity=Severity.WARNING,
        deviation=deviation,
        created_at=NOW - timedelta(days=days_ago),
    )


@pytest.mark.parametrize(
    ("last", "changes", "expected"),
    [
        (None, {}, Decision.NEW),
        (None, {"state": "ongoing"}, Decision.NEW),  # e.g. a channel added later
        (told(), {"period": WEEK1}, Decision.SKIP),  # the same period run again
        (told(), {"period": WEEK2, "deviation": 0.05}, Decision.SKIP),  # +25%: not worse enough
        (told(), {"period": WEEK2, "deviation": 0.06}, Decision.UPDATE_IN_THREAD),  # +50%
        (told(), {"period": WEEK2, "severity": "critical"}, Decision.UPDATE_IN_THREAD),
        (told(days_ago=7), {"period": WEEK2}, Decision.REMIND),
        (told(days_ago=6), {"period": WEEK2}, Decision.SKIP),
        (told(), {"period": WEEK2, "state": "recovered"}, Decision.RESOLVED),
        (told(Decision.REMIND), {"period": WEEK2, "state": "recovered"}, Decision.RESOLVED),
        (None, {"state": "recovered"}, Decision.SKIP),  # never told: nothing to resolve
        (told(Decision.RESOLVED), {"period": WEEK2, "state": "recovered"}, Decision.SKIP),
        (told(Decision.RESOLVED), {"period": WEEK2, "severity": "critical"}, Decision.SKIP),
    ],
)
def test_decide(last: LastDelivery | None, changes: dict[str, object], expected: Decision) -> None:
    assert decide(last, alert(**changes), NOW, POLICY) is expected


def test_no_reminders_when_the_interval_is_off() -> None:
    policy = NotifyPolicy(remind_after=None)

    assert decide(told(days_ago=60), alert(period=WEEK2), NOW, policy) is Decision.SKIP
