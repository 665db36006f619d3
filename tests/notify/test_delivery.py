"""The outbox end to end: runs recorded, grouped, sent, retried, threaded — real servers."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from agent.message import AlertMessage
from agent.model import Severity
from agent.notify import NotifyPolicy, RunBody, deliver, enqueue, flush, route
from agent.notify.delivery import LEASE
from agent.notify.files import FilesNotifier, FilesSpec
from agent.notify.silences import active_silences, add_silence, lift_silence
from agent.notify.webhook import WebhookNotifier, WebhookSpec
from agent.store import Store
from agent.store.schema import deliveries
from tests.notify.conftest import HOOK_SECRET, SMTPServer, alert
from tests.notify.servers import SlackState, Webhook
from tests.notify.test_email import mailer
from tests.notify.test_slack import bot

T0 = datetime(2026, 11, 16, 0, 30)
WEEK2 = "2026-11-23T00:00:00+09:00"
POLICY = NotifyPolicy()
BODY = RunBody("[warning] Revisit rate fell", "<p>r</p>", "r", {"c@x": b"\x89PNG"}, {"a": 1})
APP = alert(
    episode_id="revisit_rate|channel=app|2026-11-09T00:00:00",
    segment={"channel": "app"},
    header="Warning · Revisit rate (channel=app) ↓ 9 pts",
)


def record(store: Store, channel: str, *messages: AlertMessage, now: datetime = T0) -> int:
    return enqueue(store, {channel: list(messages)}, now=now, policy=POLICY, body=lambda: BODY)


def rows(store: Store) -> list[tuple[str, str, int]]:
    with store.engine.connect() as conn:
        found = conn.execute(
            select(deliveries.c.decision, deliveries.c.status, deliveries.c.attempts).order_by(
                deliveries.c.id
            )
        )
        return [tuple(r) for r in found]  # type: ignore[misc]


def test_a_runs_alerts_go_out_as_one_message_and_a_rerun_adds_nothing(
    store: Store, slack: SlackState
) -> None:
    notifiers = {"cx-slack": bot(slack)}

    assert record(store, "cx-slack", alert(), APP) == 2
    assert deliver(store, notifiers, now=T0) == {"sent": 1}
    assert record(store, "cx-slack", alert(), APP) == 0
    assert deliver(store, notifiers, now=T0) == {}

    [posted] = slack.messages
    assert posted["blocks"][0]["text"]["text"] == "Revisit rate: 2 alerts"
    assert rows(store) == [("new", "sent", 1), ("new", "sent", 1)]


def test_worse_then_recovered_are_replies_and_the_first_message_is_updated(
    store: Store, slack: SlackState
) -> None:
    notifiers = {"cx-slack": bot(slack)}
    record(store, "cx-slack", alert(), APP)
    deliver(store, notifiers, now=T0)
    worse = alert(period=WEEK2, state="ongoing", severity="critical", header="Critical · worse")
    calm = alert(**{**APP.__dict__, "period": WEEK2, "state": "ongoing", "deviation": 0.041})
    week3 = "2026-11-30T00:00:00+09:00"
    over = alert(period=week3, state="recovered", header="Recovered · Revisit rate")

    record(store, "cx-slack", worse, calm, now=T0 + timedelta(days=6))  # no reminder yet
    deliver(store, notifiers, now=T0 + timedelta(days=6))
    record(store, "cx-slack", over, now=T0 + timedelta(days=14))
    deliver(store, notifiers, now=T0 + timedelta(days=14))

    first, reply, resolved = slack.messages
    assert reply["thread_ts"] == first["ts"] and resolved["thread_ts"] == first["ts"]
    assert reply["text"] == "Worse: Critical · worse"
    assert resolved["text"] == "Recovered: Recovered · Revisit rate"
    assert [u["ts"] for u in slack.updates] == [first["ts"], first["ts"]]
    state = [
        b["text"]["text"]
        for b in slack.updates[-1]["blocks"]
        if b["type"] == "section" and "text" in b
    ]
    assert "*Recovered · Revisit rate*" in state[0]  # the episode's current state
    assert "channel=app" in state[2]  # the other episode of the first message, unchanged
    assert [r[0] for r in rows(store)] == ["new", "new", "update_in_thread", "resolved"]


def test_a_channel_down_for_several_attempts_gets_each_alert_once(
    store: Store, slack: SlackState, webhook: Webhook, smtp: SMTPServer
) -> None:
    spec = WebhookSpec(type="webhook", url=webhook.url, secret=HOOK_SECRET)
    notifiers = {
        "cx-slack": bot(slack),
        "cx-hook": WebhookNotifier("cx-hook", spec),
        "cx-mail": mailer(smtp),
    }
    for name in notifiers:
        record(store, name, alert())
    for _ in range(9):  # three passes' worth of failures (slack-sdk retries 500s twice itself)
        slack.fail("chat.postMessage", 500)
    webhook.statuses.extend([503, 502, 504])
    smtp.mailbox.temp_failures = 3
    now = T0

    for _ in range(3):
        assert deliver(store, notifiers, now=now) == {"retrying": 3}
        now += timedelta(minutes=5)
    assert deliver(store, notifiers, now=now) == {"sent": 3}
    assert deliver(store, notifiers, now=now + timedelta(hours=1)) == {}

    assert len(slack.messages) == len(webhook.received) == len(smtp.mailbox.messages) == 1
    assert all(attempts == 4 for _, _, attempts in rows(store))


def test_a_post_that_timed_out_but_arrived_is_not_posted_again(
    store: Store, slack: SlackState
) -> None:
    notifiers = {"cx-slack": bot(slack)}
    record(store, "cx-slack", alert())
    slack.fail("chat.postMessage", "timeout")

    assert deliver(store, notifiers, now=T0) == {"retrying": 1}
    slack.wait_for(1)
    assert deliver(store, notifiers, now=T0 + timedelta(minutes=1)) == {"recovered": 1}

    assert len(slack.messages) == 1
    assert rows(store) == [("new", "sent", 1)]


def test_retries_back_off_and_a_stale_alert_expires(store: Store, webhook: Webhook) -> None:
    notifiers = {
        "cx-hook": WebhookNotifier(
            "cx-hook", WebhookSpec(type="webhook", url="http://127.0.0.1:1/x")
        )
    }
    record(store, "cx-hook", alert())
    clock = [T0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += timedelta(seconds=seconds)

    outcome = flush(
        store, notifiers, budget=timedelta(minutes=2), clock=lambda: clock[0], sleep=sleep
    )

    assert waits == [10, 20, 40]
    assert outcome == {"retrying": 4}
    assert deliver(store, notifiers, now=T0 + timedelta(hours=25)) == {"expired": 1}
    assert rows(store) == [("new", "expired", 4)]


def test_failures_are_recorded_without_secrets(store: Store, slack: SlackState) -> None:
    notifiers = {"cx-slack": bot(slack, token="xoxb-revoked-secret")}
    record(store, "cx-slack", alert())
    record(store, "gone", alert())

    assert deliver(store, notifiers, now=T0) == {"failed": 2}

    with store.engine.connect() as conn:
        errors = list(
            conn.execute(select(deliveries.c.last_error).order_by(deliveries.c.id)).scalars()
        )
    assert errors == [
        "Slack refused the message: invalid_auth",
        "channel 'gone' is not configured",
    ]


def test_silences_and_minimum_severity_decide_who_hears(store: Store) -> None:
    info = alert(episode_id="e-info", severity="info")
    app = APP
    total = alert()
    silence = add_silence(
        store,
        "revisit_rate",
        {"channel": "app"},
        until=T0 + timedelta(days=1),
        reason="release",
        now=T0,
    )

    routed = route(
        [info, app, total],
        {"slack": Severity.WARNING, "log": Severity.INFO},
        active_silences(store, T0),
    )

    assert routed == {"slack": [total], "log": [info, total]}
    assert lift_silence(store, silence, now=T0 + timedelta(hours=1))
    assert not lift_silence(store, silence, now=T0 + timedelta(hours=1))
    assert active_silences(store, T0 + timedelta(hours=1)) == []


def test_file_channel_writes_each_message_once(store: Store, tmp_path) -> None:
    notifiers = {"log": FilesNotifier("log", FilesSpec(type="files"), base_dir=tmp_path)}
    record(store, "log", alert(), APP)

    deliver(store, notifiers, now=T0)
    deliver(store, notifiers, now=T0 + LEASE * 2)

    [text] = sorted(tmp_path.glob("outbox/2026-11-16/*.txt"))
    assert text.read_text().splitlines()[:3] == [
        "Revisit rate: 2 alerts",
        "",
        "New alert: Warning · Revisit rate ↓ 4.1 pts",
    ]
