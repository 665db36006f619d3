"""Feedback: the team's verdicts on alerts, and what they change.

``cx-agent feedback EPISODE --label true|false|expected`` or a report's feedback link
(served by ``cx-agent serve`` when metrics.yaml ``feedback.serve`` is on) records a
verdict (:mod:`labels`); alerts marked false make the metric less sensitive within
its ``tuning:`` limits (:mod:`tuning`); ``expected`` verdicts become windows in which
the same move is not alerted.
"""

from __future__ import annotations

from agent.feedback.labels import (
    LABELS,
    ExpectedWindow,
    FalseAlarm,
    Label,
    UnknownEpisode,
    expected_windows,
    false_alarms,
    record_label,
)
from agent.feedback.links import FeedbackSpec, feedback_links
from agent.feedback.server import FeedbackServer, start_feedback_server
from agent.feedback.tuning import Tuning, TuningSpec, tune

__all__ = [
    "LABELS",
    "ExpectedWindow",
    "FalseAlarm",
    "FeedbackServer",
    "FeedbackSpec",
    "Label",
    "Tuning",
    "TuningSpec",
    "UnknownEpisode",
    "expected_windows",
    "false_alarms",
    "feedback_links",
    "record_label",
    "start_feedback_server",
    "tune",
]
