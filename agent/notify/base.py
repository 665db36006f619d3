"""The notifier extension point: what a channel is given, what it returns, how it fails.

A notifier only sends. Whether to send (dedup, silences, re-notify rules), when to retry
and what to remember are the outbox's business (``outbox.py``). A notifier reports
failure as ``NotifyError(retryable=…)`` and never puts a secret in it: every message
passes through ``redact`` with the channel's secrets first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import quote, quote_plus

from pydantic import BaseModel, ConfigDict

from agent.errors import AgentError
from agent.message import AlertMessage
from agent.model import Severity

__all__ = [
    "ChannelSpec",
    "Decision",
    "DeliveryRef",
    "Item",
    "Notice",
    "NotifyError",
    "Notifier",
    "NotifierClass",
    "RunBody",
    "http_failure",
    "redact",
]


class Decision(StrEnum):
    """Why a channel hears about an episode in this run (Alertmanager's needsUpdate reasons)."""

    NEW = "new"
    UPDATE_IN_THREAD = "update_in_thread"
    REMIND = "remind"
    RESOLVED = "resolved"
    SKIP = "skip"


class NotifyError(AgentError):
    """A channel did not take a message. ``retryable``: timeouts, 5xx, 429."""

    def __init__(self, channel: str, reason: str, *, retryable: bool) -> None:
        self.channel, self.reason, self.retryable = channel, reason, retryable
        super().__init__(f"channel {channel!r}: {reason}")


@dataclass(frozen=True)
class DeliveryRef:
    """The handle a channel gave back: Slack ``<channel id>:<ts>``, an email Message-ID…"""

    channel: str
    external_id: str


@dataclass(frozen=True)
class RunBody:
    """What the run's report gives every channel, handed over as values by ``agent.pipeline.run``.

    ``images`` maps each Content-ID the email ``html`` references (``cid:<id>``) to PNG
    bytes; the first is the chart. ``report`` is the report's JSON contract.
    ``attachments`` maps file names to the bytes of the customer lists small enough to
    travel with the email (``reports.attach_rows``).
    """

    subject: str
    html: str
    text: str
    images: dict[str, bytes] = field(repr=False)
    report: dict[str, Any] = field(repr=False)
    attachments: dict[str, bytes] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Item:
    decision: Decision
    message: AlertMessage


@dataclass(frozen=True)
class Notice:
    """One message to one channel: a run's alerts for that channel, grouped.

    ``key`` identifies the delivery everywhere the channel can carry it (Slack message
    metadata, the email's Message-ID, the webhook's ``X-CX-Agent-Delivery`` header, the
    file name), so a restart can ask the channel whether it already got it. ``parent``
    is, for a follow-up in a thread, the current state of the thread's first message.
    """

    key: str
    items: list[Item]
    body: RunBody | None = None
    parent: list[AlertMessage] = field(default_factory=list)

    @property
    def messages(self) -> list[AlertMessage]:
        return [item.message for item in self.items]


class ChannelSpec(BaseModel):
    """What the options of every channel type share (``channels.<name>`` in metrics.yaml).

    A channel type's own model narrows ``type`` to its word (``Literal["slack"]``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    min_severity: Severity = Severity.WARNING
    """The least severe alert the channel is told about."""


class Notifier(Protocol):
    """A channel. ``find`` tells, after a crash, whether ``notice`` was already delivered
    (None when the channel cannot tell: the outbox then sends it again)."""

    kind: ClassVar[str]
    spec_type: ClassVar[type[ChannelSpec]]
    channel: str

    def send(self, notice: Notice, *, thread: DeliveryRef | None = None) -> DeliveryRef: ...

    def find(self, notice: Notice, *, thread: DeliveryRef | None = None) -> DeliveryRef | None: ...


class NotifierClass(Protocol):
    """A notifier class as ``NOTIFIERS`` holds it: built from the channel's name and its
    options, with file paths relative to ``base_dir`` (the reports directory).

    ``spec`` is an instance of the class's own ``spec_type``, which the config has
    validated; a type checker cannot tie the two together through the registry.
    """

    @property
    def kind(self) -> str: ...

    @property
    def spec_type(self) -> type[ChannelSpec]: ...

    def __call__(self, channel: str, spec: Any, /, *, base_dir: Path) -> Notifier: ...


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret (raw or URL-quoted) replaced by ``***``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, "***")
    return text


def http_failure(channel: str, status: int, body: str, secrets: list[str]) -> NotifyError:
    """Alertmanager's ``Retrier.Check``: 5xx (and 429) retry; other 4xx are permanent and
    say what the server answered."""
    retryable = status >= 500 or status == 429
    answer = " ".join(body.split())[:200]
    reason = f"HTTP {status}" + (f": {answer}" if answer and not retryable else "")
    return NotifyError(channel, redact(reason, secrets), retryable=retryable)
