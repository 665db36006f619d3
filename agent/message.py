"""AlertMessage: the short, format-agnostic alert about one episode.

``report/alert.py`` builds it from a run (wording and numbers already in the report's
locale); each notifier renders it for its channel (Slack blocks, an email, a webhook
body, a file). It holds only plain strings, numbers and lists, so it is stored as JSON
in the outbox and rebuilt unchanged with ``message_from_dict`` when a delivery is
retried after a crash.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "AlertCause",
    "AlertField",
    "AlertMessage",
    "AlertVoice",
    "message_from_dict",
    "message_to_dict",
]


@dataclass(frozen=True)
class AlertField:
    """One labelled fact: ("Value", "31.2%")."""

    label: str
    value: str


@dataclass(frozen=True)
class AlertCause:
    """One of the top causes: its segment and one line of numbers about it."""

    segment: str
    detail: str


@dataclass(frozen=True)
class AlertVoice:
    """What a cause segment's customers said: one line of themes that rose, and masked
    comments for them (shown where there is room: a Slack thread, not its first message)."""

    themes: str
    verbatims: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AlertMessage:
    """What a channel says about one episode in one run.

    ``state`` is the episode's (``new``, ``ongoing``, ``recovered``); ``severity`` its
    worst so far. ``header`` is one line (severity, metric, direction and size),
    ``summary`` one sentence. ``deviation`` is ``|value - expected|`` in metric units:
    the outbox compares it between runs to tell whether an ongoing episode got worse.
    Values from the data (segment names) are raw text here; renderers escape them.
    """

    episode_id: str
    metric: str
    title: str
    segment: dict[str, str]
    period: str
    state: str
    severity: str
    header: str
    summary: str
    fields: list[AlertField]
    causes: list[AlertCause]
    deviation: float
    locale: str = "en"
    report_url: str | None = None
    owners: list[str] = field(default_factory=list)
    voice: list[AlertVoice] = field(default_factory=list)


def message_to_dict(msg: AlertMessage) -> dict[str, Any]:
    return asdict(msg)


def message_from_dict(data: dict[str, Any]) -> AlertMessage:
    """The inverse of ``message_to_dict`` (used to resend a stored delivery)."""
    return AlertMessage(
        **{
            **data,
            "fields": [AlertField(**f) for f in data["fields"]],
            "causes": [AlertCause(**c) for c in data["causes"]],
            "voice": [AlertVoice(**v) for v in data.get("voice") or []],
        }
    )
