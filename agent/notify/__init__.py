"""Delivery of alerts to Slack, email and webhooks through a crash-safe outbox.

How a run's alerts travel::

    AlertMessage per episode (report/alert.py)
      -> route()    metric's notify: list, channel min_severity, silences
      -> enqueue()  decide() NEW / UPDATE_IN_THREAD / REMIND / RESOLVED / SKIP, rows recorded
      -> deliver()  grouped per channel (and thread), sent, retried, never sent twice

To add a channel type: write ``notify/<kind>.py`` with a pydantic ``<Kind>Spec`` (``type:
Literal["<kind>"]`` and ``min_severity``) and a class with ``send`` and ``find`` (see
``base.Notifier``), add it to ``NOTIFIERS`` below, and run it through the contract tests in
``tests/notify/``. metrics.yaml accepts the new ``type:`` at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from agent.message import AlertCause, AlertField, AlertMessage
from agent.notify.base import (
    ChannelSpec,
    Decision,
    DeliveryRef,
    Item,
    Notice,
    Notifier,
    NotifierClass,
    NotifyError,
    RunBody,
)
from agent.notify.delivery import deliver, flush, has_work
from agent.notify.email import EmailNotifier
from agent.notify.files import FilesNotifier
from agent.notify.outbox import NotifyPolicy, decide, enqueue
from agent.notify.routing import route
from agent.notify.silences import active_silences, add_silence, lift_silence
from agent.notify.slack import SlackNotifier
from agent.notify.webhook import WebhookNotifier

__all__ = [
    "NOTIFIERS",
    "ChannelSpec",
    "Decision",
    "DeliveryRef",
    "Notice",
    "Notifier",
    "NotifyError",
    "NotifyPolicy",
    "RunBody",
    "active_silences",
    "add_silence",
    "build_notifier",
    "build_notifiers",
    "decide",
    "deliver",
    "enqueue",
    "flush",
    "has_work",
    "lift_silence",
    "route",
    "sample_notice",
]

NOTIFIERS: dict[str, NotifierClass] = {
    "slack": SlackNotifier,
    "email": EmailNotifier,
    "webhook": WebhookNotifier,
    "files": FilesNotifier,
}
"""``type:`` of a channel in metrics.yaml -> its notifier; ``spec_type`` is its options model."""


def build_notifier(name: str, spec: ChannelSpec, *, base_dir: Path) -> Notifier:
    """The notifier for channel ``name``; file paths are relative to ``base_dir``."""
    return NOTIFIERS[spec.type](name, spec, base_dir=base_dir)


def build_notifiers(channels: Mapping[str, ChannelSpec], *, base_dir: Path) -> dict[str, Notifier]:
    return {name: build_notifier(name, spec, base_dir=base_dir) for name, spec in channels.items()}


def sample_notice(channel: str, now: datetime) -> Notice:
    """What ``cx-agent notify-test`` sends: a made-up alert, marked as a test."""
    msg = AlertMessage(
        episode_id=f"test|{channel}",
        metric="notify_test",
        title="cx-agent test alert",
        segment={},
        period=now.isoformat(),
        state="new",
        severity="warning",
        header="Test · cx-agent can reach this channel",
        summary=f"This is a test message from cx-agent to the channel {channel!r}; "
        "no metric moved.",
        fields=[AlertField("Value", "31.2%"), AlertField("Expected", "35.0%")],
        causes=[AlertCause("channel=app", "78% · 36.0% → 30.1%")],
        deviation=0.0,
    )
    return Notice(f"test|{channel}|{now.isoformat()}", [Item(Decision.NEW, msg)])
