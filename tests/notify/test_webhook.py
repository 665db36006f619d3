"""The generic webhook against a local receiver that checks the HMAC signature."""

from __future__ import annotations

import logging

import pytest

from agent.notify import Decision, Notice, NotifyError, RunBody
from agent.notify.base import Item
from agent.notify.webhook import WebhookNotifier, WebhookSpec
from tests.notify.conftest import HOOK_SECRET, alert
from tests.notify.servers import Webhook

REPORT = {"schema": "cx-agent/report@1", "metric": "revisit_rate"}
BODY = RunBody("subject", "<p></p>", "text", {}, REPORT)


def hook(receiver: Webhook, secret: str = HOOK_SECRET, **spec: object) -> WebhookNotifier:
    model = WebhookSpec.model_validate(
        {"type": "webhook", "url": receiver.url, "secret": secret, "timeout": 1} | spec
    )
    return WebhookNotifier("cx-hook", model)


def notice(key: str = "k1") -> Notice:
    return Notice(key, [Item(Decision.NEW, alert(segment={"channel": "<!channel>"}))], BODY)


def test_signed_report_json_is_accepted(webhook: Webhook) -> None:
    ref = hook(webhook).send(notice())

    [got] = webhook.received
    assert ref.external_id == "k1"
    assert got["delivery"] == "k1"
    assert got["body"]["report"] == REPORT
    [sent] = got["body"]["alerts"]
    assert sent["decision"] == "new"
    assert sent["segment"] == {"channel": "<!channel>"}  # JSON carries data as data
    assert sent["header"] == "Warning · Revisit rate ↓ 4.1 pts"


def test_a_wrong_secret_is_refused_permanently_with_the_receivers_answer(
    webhook: Webhook,
) -> None:
    with pytest.raises(NotifyError) as caught:
        hook(webhook, secret="not-the-secret").send(notice())

    assert not caught.value.retryable
    assert caught.value.reason == 'HTTP 401: {"error": "bad signature"}'
    assert webhook.rejected == 1


@pytest.mark.parametrize(("status", "reason"), [(503, "HTTP 503"), (429, "HTTP 429")])
def test_5xx_and_429_are_retryable(webhook: Webhook, status: int, reason: str) -> None:
    webhook.statuses.append(status)

    with pytest.raises(NotifyError) as caught:
        hook(webhook).send(notice())

    assert caught.value.retryable and caught.value.reason == reason


def test_a_timeout_is_retryable(webhook: Webhook) -> None:
    webhook.statuses.append("timeout")

    with pytest.raises(NotifyError) as caught:
        hook(webhook, timeout=0.3).send(notice())

    assert caught.value.retryable
    assert caught.value.reason == "cannot reach the webhook: ReadTimeout"


def test_no_secret_in_errors_or_logs(webhook: Webhook, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors = []
    for url in (webhook.url, "http://127.0.0.1:1/hooks?token=url-secret-123"):
        with pytest.raises(NotifyError) as caught:
            hook(webhook, secret="wrong-secret-55", url=url).send(notice())
        errors.append(str(caught.value))

    shown = (
        caplog.text
        + "".join(errors)
        + repr(
            WebhookSpec.model_validate(
                {"type": "webhook", "url": webhook.url, "secret": HOOK_SECRET}
            )
        )
    )
    for secret in ("url-secret-123", "wrong-secret-55", HOOK_SECRET):
        assert secret not in shown
