"""Slack: a Block Kit alert with a text fallback, the chart in its thread, follow-ups as replies.

With a bot token (``chat:write``, ``files:write``; ``channels:history`` lets a restart
check what was already posted) the first message of an episode starts a thread: the
chart is uploaded into it, later updates, reminders and the recovery are replies, and
the first message is edited (``chat.update``) to show the current state. An incoming
webhook URL is the simpler fallback: one message per notice, no threads, no uploads.

slack-sdk's own retry handlers absorb short trouble (429 with Retry-After, 500/503,
dropped connections); what still fails becomes ``NotifyError`` here and the outbox
retries it later. At most one message per second goes to a channel.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar, Literal
from urllib.error import URLError

from pydantic import ConfigDict, SecretStr, model_validator
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from agent.notify.base import ChannelSpec, DeliveryRef, Notice, NotifyError, http_failure, redact
from agent.notify.logs import redacting_logger
from agent.notify.slack_blocks import blocks, escape, fallback_text, voice_blocks

__all__ = ["SlackNotifier", "SlackSpec"]

_RETRYABLE_CODES = {"ratelimited", "service_unavailable", "internal_error", "fatal_error"}
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
_MIN_GAP = 1.0
"""Seconds between two messages to one Slack channel."""
_last_post: dict[str, float] = {}
_post_lock = threading.Lock()


class SlackSpec(ChannelSpec):
    """``type: slack``: a bot ``token`` and ``channel``, or an incoming ``webhook_url``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["slack"]
    channel: str | None = None
    token: SecretStr | None = None
    webhook_url: SecretStr | None = None
    api_url: str = "https://slack.com/api/"
    timeout: float = 10.0

    @model_validator(mode="after")
    def _one_way(self) -> SlackSpec:
        if self.token and self.webhook_url:
            raise ValueError("give either token (with channel) or webhook_url, not both")
        if self.token is None and self.webhook_url is None:
            raise ValueError("needs token: (a bot token, e.g. ${SLACK_BOT_TOKEN}) or webhook_url:")
        if self.token and not self.channel:
            raise ValueError("a bot token needs channel: (e.g. '#cx-alerts' or its C… id)")
        return self


class SlackNotifier:
    kind: ClassVar[str] = "slack"
    spec_type: ClassVar[type[ChannelSpec]] = SlackSpec

    def __init__(
        self,
        channel: str,
        spec: SlackSpec,
        *,
        base_dir: Path | None = None,
        retry_interval: RetryIntervalCalculator | None = None,
    ) -> None:
        """``base_dir`` is unused: Slack keeps nothing on disk (``NotifierClass``)."""
        self.channel, self.spec = channel, spec
        self._secrets = [s.get_secret_value() for s in (spec.token, spec.webhook_url) if s]
        logger = redacting_logger(f"agent.notify.slack.{channel}", self._secrets)
        interval = retry_interval or BackoffRetryIntervalCalculator(backoff_factor=0.5)
        handlers = [
            ConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=interval),
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2, interval_calculator=interval),
        ]
        self._client = WebClient(
            token=spec.token.get_secret_value() if spec.token else None,
            base_url=spec.api_url,
            timeout=int(max(1, spec.timeout)),
            retry_handlers=handlers,
            logger=logger,
        )
        self._hook = (
            WebhookClient(
                spec.webhook_url.get_secret_value(),
                timeout=int(max(1, spec.timeout)),
                retry_handlers=handlers,
                logger=logger,
            )
            if spec.webhook_url
            else None
        )
        self._channel_id: str | None = None
        self._log = logger

    def send(self, notice: Notice, *, thread: DeliveryRef | None = None) -> DeliveryRef:
        with self._errors():
            if self._hook is not None:
                return self._send_webhook(self._hook, notice)
            return self._post(notice, thread)

    def find(self, notice: Notice, *, thread: DeliveryRef | None = None) -> DeliveryRef | None:
        """Look for the notice's key in the channel (or thread) history; None if unknown."""
        if self._hook is not None:
            return None  # an incoming webhook cannot read the channel
        try:
            with self._errors():
                return self._find(notice, thread)
        except NotifyError as exc:
            self._log.warning("cannot check %s for %s: %s", self.channel, notice.key, exc.reason)
            return None

    def _send_webhook(self, hook: WebhookClient, notice: Notice) -> DeliveryRef:
        self._throttle()
        resp = hook.send(text=fallback_text(notice), blocks=blocks(notice.messages, notice.items))
        if resp.status_code != 200:
            raise http_failure(self.channel, resp.status_code, resp.body, self._secrets)
        return DeliveryRef(self.channel, f"webhook:{notice.key}")

    def _post(self, notice: Notice, thread: DeliveryRef | None) -> DeliveryRef:
        target, thread_ts = _split(thread.external_id) if thread else (self.spec.channel, None)
        self._throttle()
        resp = self._client.chat_postMessage(
            channel=str(target),
            text=fallback_text(notice),
            blocks=blocks(notice.messages, notice.items),
            thread_ts=thread_ts,
            metadata={"event_type": "cx_agent_alert", "event_payload": {"delivery": notice.key}},
            unfurl_links=False,
        )
        ref = DeliveryRef(self.channel, f"{resp['channel']}:{resp['ts']}")
        if thread is None:
            self._upload_chart(notice, resp["channel"], resp["ts"])
            self._post_voice(notice, resp["channel"], resp["ts"])
        elif notice.parent:
            self._update_parent(notice, thread)
        return ref

    def _upload_chart(self, notice: Notice, channel_id: str, ts: str) -> None:
        """The chart goes into the new thread; failing here does not fail the delivery
        (the alert is out, and sending it again would duplicate it)."""
        if notice.body is None or not notice.body.images:
            return
        png = next(iter(notice.body.images.values()))
        try:
            self._client.files_upload_v2(
                channel=channel_id,
                thread_ts=ts,
                content=png,
                filename="chart.png",
                title=escape(notice.messages[0].title),
            )
        except (SlackClientError, OSError) as exc:
            self._log.warning("%s: chart not uploaded: %s", self.channel, _reason(exc))

    def _post_voice(self, notice: Notice, channel_id: str, ts: str) -> None:
        """What customers said goes into the new thread, like the chart (and, like it,
        failing here does not fail the delivery)."""
        quoted = voice_blocks(notice.messages)
        if not quoted:
            return
        self._throttle()
        try:
            self._client.chat_postMessage(
                channel=channel_id,
                thread_ts=ts,
                text=str(quoted[0]["text"]["text"]),
                blocks=quoted,
                unfurl_links=False,
            )
        except (SlackClientError, OSError) as exc:
            self._log.warning("%s: comments not posted: %s", self.channel, _reason(exc))

    def _update_parent(self, notice: Notice, thread: DeliveryRef) -> None:
        channel_id, ts = _split(thread.external_id)
        parent = Notice(notice.key, [], parent=notice.parent)
        try:
            self._client.chat_update(
                channel=channel_id,
                ts=str(ts),
                text=fallback_text(parent),
                blocks=blocks(notice.parent, None),
            )
        except (SlackClientError, OSError) as exc:
            self._log.warning("%s: first message not updated: %s", self.channel, _reason(exc))

    def _find(self, notice: Notice, thread: DeliveryRef | None) -> DeliveryRef | None:
        if thread is not None:
            channel_id, ts = _split(thread.external_id)
            found = self._client.conversations_replies(
                channel=channel_id, ts=str(ts), include_all_metadata=True, limit=200
            )
        else:
            channel_id = self._resolve_channel()
            found = self._client.conversations_history(
                channel=channel_id, include_all_metadata=True, limit=200
            )
        for message in found.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("delivery") == notice.key:
                return DeliveryRef(self.channel, f"{channel_id}:{message['ts']}")
        return None

    def _resolve_channel(self) -> str:
        """The channel's id (history needs it); a ``#name`` is looked up once."""
        name = str(self.spec.channel)
        if _CHANNEL_ID.match(name):
            return name
        if self._channel_id is None:
            for page in self._client.conversations_list(
                types="public_channel,private_channel", limit=200
            ):
                for conv in page.get("channels") or []:
                    if conv.get("name") == name.lstrip("#"):
                        self._channel_id = conv["id"]
        if self._channel_id is None:
            raise NotifyError(self.channel, f"channel {name} not found", retryable=False)
        return self._channel_id

    def _throttle(self) -> None:
        key = str(self.spec.channel or self.channel)
        with _post_lock:
            wait = _last_post.get(key, 0.0) + _MIN_GAP - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            _last_post[key] = time.monotonic()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """slack-sdk and network errors → NotifyError, secrets removed."""
        try:
            yield
        except SlackApiError as exc:
            raise _api_failure(self.channel, exc, self._secrets) from None
        except (SlackClientError, URLError, OSError) as exc:
            reason = redact(f"cannot reach Slack: {_reason(exc)}", self._secrets)
            raise NotifyError(self.channel, reason, retryable=True) from None


def _api_failure(channel: str, exc: SlackApiError, secrets: list[str]) -> NotifyError:
    status = exc.response.status_code
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    code = str(data.get("error") or "")
    if status != 200 or not code:
        return http_failure(channel, status, code or str(exc.response.data), secrets)
    reason = redact(f"Slack refused the message: {code}", secrets)
    return NotifyError(channel, reason, retryable=code in _RETRYABLE_CODES)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]


def _split(external_id: str) -> tuple[str, str | None]:
    channel_id, _, ts = external_id.partition(":")
    return channel_id, ts or None
