"""Slack against a local server speaking the Web API, as slack-sdk's WebClient talks to it."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace

import pytest
from pydantic import ValidationError
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from agent.notify import Decision, DeliveryRef, Notice, NotifyError, RunBody
from agent.notify.base import Item
from agent.notify.slack import SlackNotifier, SlackSpec
from tests.notify.conftest import alert
from tests.notify.servers import CHANNEL_ID, HOOK_PATH, TOKEN, SlackState

FAST = FixedValueRetryIntervalCalculator(0.05)
BODY = RunBody("[warning] Revisit rate fell", "<p>report</p>", "report", {"c@x": b"\x89PNG"}, {})


def bot(slack: SlackState, **spec: object) -> SlackNotifier:
    options = {"type": "slack", "channel": "#cx-alerts", "token": TOKEN, "timeout": 1.0}
    options["api_url"] = f"{slack.base}/api/"
    model = SlackSpec.model_validate(options | spec)
    return SlackNotifier("cx-slack", model, retry_interval=FAST)


def notice(key: str = "k1", decision: Decision = Decision.NEW, **changes: object) -> Notice:
    return Notice(key, [Item(decision, alert(**changes))], BODY)


def test_new_alert_is_blocks_with_fallback_and_the_chart_goes_into_its_thread(
    slack: SlackState,
) -> None:
    ref = bot(slack).send(notice())

    [posted] = slack.messages
    assert ref == DeliveryRef("cx-slack", f"{CHANNEL_ID}:{posted['ts']}")
    assert posted["posted_to"] == "#cx-alerts"
    assert posted["text"] == "New alert: Warning · Revisit rate ↓ 4.1 pts"
    header, summary, fields, causes, footer = posted["blocks"]
    assert header["text"]["text"] == "Warning · Revisit rate ↓ 4.1 pts"
    assert summary["text"]["text"].startswith("*New alert* · *Warning · Revisit rate")
    assert [f["text"] for f in fields["fields"]] == ["*Value*\n31.2%", "*Expected*\n35.3%"]
    assert causes["text"]["text"] == "*Top causes*\n• *channel=app* — 78% · 36.0% → 30.1%"
    assert footer["elements"][0]["text"] == (
        "Owners: <@U012AB3CD>  ·  "
        "<https://reports.example.com/2026-11-16/revisit_rate.html|Open the report>"
    )
    assert posted["metadata"]["event_payload"] == {"delivery": "k1"}
    [upload, complete] = slack.uploads
    assert upload["bytes"] == b"\x89PNG"
    assert complete["complete"]["thread_ts"] == posted["ts"]
    assert complete["complete"]["channel_id"] == CHANNEL_ID


def test_follow_up_is_a_thread_reply_and_the_first_message_shows_the_current_state(
    slack: SlackState,
) -> None:
    first = bot(slack).send(notice())
    later = alert(state="ongoing", severity="critical", header="Critical · Revisit rate ↓ 8 pts")
    follow = Notice("k2", [Item(Decision.UPDATE_IN_THREAD, later)], BODY, parent=[later])

    bot(slack).send(follow, thread=first)

    reply = slack.messages[1]
    assert reply["thread_ts"] == slack.messages[0]["ts"]
    assert reply["text"] == "Worse: Critical · Revisit rate ↓ 8 pts"
    [update] = slack.updates
    assert update["ts"] == slack.messages[0]["ts"]
    assert update["blocks"][0]["text"]["text"] == "Critical · Revisit rate ↓ 8 pts"
    assert len(slack.uploads) == 2  # the chart only with the first message


def test_429_with_retry_after_and_500s_are_retried_by_slack_sdk(slack: SlackState) -> None:
    slack.fail("chat.postMessage", 429, retry_after=1)
    slack.fail("chat.postMessage", 500)

    bot(slack).send(notice())

    assert slack.calls.count("chat.postMessage") == 3
    assert len(slack.messages) == 1


def test_server_errors_past_the_sdk_retries_are_retryable(slack: SlackState) -> None:
    for _ in range(3):
        slack.fail("chat.postMessage", 500)

    with pytest.raises(NotifyError) as caught:
        bot(slack).send(notice())

    assert caught.value.retryable
    assert caught.value.reason == "HTTP 500"
    assert slack.messages == []


def test_a_timeout_is_retryable_and_the_channel_can_tell_it_arrived(slack: SlackState) -> None:
    slack.fail("chat.postMessage", "timeout")
    notifier = bot(slack)

    with pytest.raises(NotifyError) as caught:
        notifier.send(notice())

    assert caught.value.retryable
    slack.wait_for(1)
    assert notifier.find(notice()) == DeliveryRef("cx-slack", f"{CHANNEL_ID}:1700000000.000001")
    assert notifier.find(notice("other-key")) is None


def test_refusals_are_permanent_and_name_slacks_error(slack: SlackState) -> None:
    with pytest.raises(NotifyError) as caught:
        bot(slack, token="xoxb-wrong-token").send(notice())

    assert not caught.value.retryable
    assert str(caught.value) == "channel 'cx-slack': Slack refused the message: invalid_auth"


def test_hostile_segment_values_are_shown_not_obeyed(slack: SlackState) -> None:
    hostile = "<!channel> <script>alert(1)</script> *bold* &amp"
    msg = notice(
        segment={"channel": hostile},
        header=f"Warning · Revisit rate ({hostile}) ↓ 4 pts",
        summary=f"Revisit rate fell for {hostile}.",
    )

    bot(slack).send(replace(msg, items=[replace(msg.items[0])]))

    raw = json.dumps(slack.messages[0], ensure_ascii=False)
    assert "<!channel>" not in raw and "<script>" not in raw
    assert "&lt;!channel&gt; &lt;script&gt;" in slack.messages[0]["text"]
    assert "&amp;amp" in slack.messages[0]["blocks"][1]["text"]["text"]


def test_incoming_webhook_fallback_posts_without_threads(slack: SlackState) -> None:
    url = f"{slack.base}{HOOK_PATH}"
    notifier = SlackNotifier(
        "cx-hook", SlackSpec(type="slack", webhook_url=url), retry_interval=FAST
    )

    ref = notifier.send(notice())

    [hook] = slack.hooks
    assert hook["text"] == "New alert: Warning · Revisit rate ↓ 4.1 pts"
    assert ref.external_id == "webhook:k1"
    assert notifier.find(notice()) is None  # a webhook cannot read the channel back
    assert slack.uploads == []


def test_no_secret_in_errors_or_logs(slack: SlackState, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"{slack.base}/services/T000/B000/wrong-hook-secret"
    hook = SlackNotifier("cx-hook", SlackSpec(type="slack", webhook_url=url), retry_interval=FAST)
    errors = []
    for notifier, fault in ((hook, None), (bot(slack), 500), (bot(slack), "timeout")):
        for _ in range(3):
            if fault is not None:
                slack.fail("chat.postMessage", fault)
        with pytest.raises(NotifyError) as caught:
            notifier.send(notice())
        errors.append(str(caught.value))
        slack.faults.clear()

    text = caplog.text + "\n".join(errors)
    assert caplog.text  # slack-sdk did log its requests
    for secret in (TOKEN, "wrong-hook-secret"):
        assert secret not in text
        assert secret not in repr(SlackSpec(type="slack", channel="#x", token=secret))


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({}, "needs token: (a bot token, e.g. ${SLACK_BOT_TOKEN}) or webhook_url:"),
        ({"token": "x"}, "a bot token needs channel: (e.g. '#cx-alerts' or its C… id)"),
        ({"token": "x", "channel": "#a", "webhook_url": "https://h"}, "not both"),
    ],
)
def test_spec_needs_one_way_to_post(spec: dict[str, str], problem: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        SlackSpec.model_validate({"type": "slack", **spec})
