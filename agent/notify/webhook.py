"""Generic webhook: the alert and the report's JSON POSTed to a URL, signed when a secret is set.

The body is JSON (UTF-8)::

    {"delivery": KEY, "decision": "new", "alerts": [AlertMessage...], "report": {...}}

With ``secret:``, ``X-CX-Agent-Signature: sha256=<hex>`` is the HMAC-SHA256 of
``<timestamp>.<body>`` under the secret, and ``X-CX-Agent-Timestamp`` is that Unix
timestamp: a receiver recomputes it and rejects old timestamps (replays).
``X-CX-Agent-Delivery`` is the same on every attempt of one delivery, so a receiver can
drop the one duplicate that a crash between its "200" and our record can cause.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx
from pydantic import ConfigDict, Field, SecretStr, field_validator

from agent.notify.base import ChannelSpec, DeliveryRef, Notice, NotifyError, http_failure, redact
from agent.notify.logs import protect
from agent.notify.render import notice_payload
from agent.text import clean_json

__all__ = ["WebhookNotifier", "WebhookSpec", "signature"]


class WebhookSpec(ChannelSpec):
    """``type: webhook``: where to POST, the signing secret, how long to wait."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["webhook"]
    url: SecretStr
    secret: SecretStr | None = None
    timeout: float = Field(10.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _http(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("url must start with https:// (or http://)")
        return value


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookNotifier:
    kind: ClassVar[str] = "webhook"
    spec_type: ClassVar[type[ChannelSpec]] = WebhookSpec

    def __init__(self, channel: str, spec: WebhookSpec, *, base_dir: Path | None = None) -> None:
        """``base_dir`` is unused: a webhook keeps nothing on disk (``NotifierClass``)."""
        self.channel, self.spec = channel, spec
        self._secrets = [s.get_secret_value() for s in (spec.url, spec.secret) if s]
        protect(self._secrets)

    def send(self, notice: Notice, *, thread: DeliveryRef | None = None) -> DeliveryRef:
        body = json.dumps(_payload(notice, thread), ensure_ascii=False, allow_nan=False).encode()
        headers = {"Content-Type": "application/json", "X-CX-Agent-Delivery": notice.key}
        if self.spec.secret:
            stamp = str(int(time.time()))
            headers["X-CX-Agent-Timestamp"] = stamp
            headers["X-CX-Agent-Signature"] = signature(
                self.spec.secret.get_secret_value(), stamp, body
            )
        try:
            resp = httpx.post(
                self.spec.url.get_secret_value(),
                content=body,
                headers=headers,
                timeout=self.spec.timeout,
            )
        except httpx.HTTPError as exc:
            reason = redact(f"cannot reach the webhook: {type(exc).__name__}", self._secrets)
            raise NotifyError(self.channel, reason, retryable=True) from None
        if not resp.is_success:
            raise http_failure(self.channel, resp.status_code, resp.text, self._secrets)
        return DeliveryRef(self.channel, resp.headers.get("X-Request-Id") or notice.key)

    def find(self, notice: Notice, *, thread: DeliveryRef | None = None) -> None:
        return None  # a webhook cannot be asked: the receiver dedups on X-CX-Agent-Delivery


def _payload(notice: Notice, thread: DeliveryRef | None) -> dict[str, Any]:
    report = clean_json(notice.body.report) if notice.body else None
    return notice_payload(notice, thread) | {"report": report}
