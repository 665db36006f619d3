"""A process killed between sending and recording: no duplicate where the channel can tell.

Slack (with a bot token) and the file channel are asked on restart and say "already
there": nothing is sent again. SMTP and webhooks cannot be asked: the message goes out
once more, with the same Message-ID / X-CX-Agent-Delivery, so the receiver can drop it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agent.notify import deliver
from agent.notify.delivery import LEASE
from agent.store import Store
from agent.store.schema import deliveries
from tests.conftest import REPO
from tests.notify.conftest import HOOK_SECRET, SMTPServer, alert
from tests.notify.crash_child import notifier_from
from tests.notify.servers import TOKEN, SlackState, Webhook
from tests.notify.test_delivery import T0, record


def crash(store: Store, channel: str, spec: dict[str, Any], base: Path) -> int:
    record(store, channel, alert())
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.notify.crash_child",
            str(store.engine.url),
            channel,
            json.dumps(spec),
            str(base),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -9, done.stderr
    return done.returncode


def restart(store: Store, channel: str, spec: dict[str, Any], base: Path) -> dict[str, int]:
    notifier = notifier_from(channel, spec, base)
    return dict(deliver(store, {channel: notifier}, now=T0 + LEASE + timedelta(seconds=1)))


def slack_spec(slack: SlackState) -> dict[str, Any]:
    return {
        "type": "slack",
        "channel": "#cx-alerts",
        "token": TOKEN,
        "api_url": f"{slack.base}/api/",
    }


def status(store: Store) -> list[tuple[str, int]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(deliveries.c.status, deliveries.c.attempts))]  # type: ignore[misc]


def test_slack_is_asked_and_nothing_is_sent_twice(
    store: Store, slack: SlackState, tmp_path: Path
) -> None:
    spec = slack_spec(slack)
    crash(store, "cx-slack", spec, tmp_path)
    assert len(slack.messages) == 1

    assert restart(store, "cx-slack", spec, tmp_path) == {"recovered": 1}
    assert len(slack.messages) == 1
    assert status(store) == [("sent", 1)]


def test_files_are_looked_at_and_nothing_is_written_twice(store: Store, tmp_path: Path) -> None:
    spec = {"type": "files", "dir": "outbox"}
    crash(store, "log", spec, tmp_path)

    assert restart(store, "log", spec, tmp_path) == {"recovered": 1}
    assert len(list(tmp_path.glob("outbox/*/*.txt"))) == 1


def test_email_is_sent_at_most_once_more_with_the_same_message_id(
    store: Store, smtp: SMTPServer, ca_file: Path, tmp_path: Path
) -> None:
    spec = {"type": "email", "to": ["cx@example.com"], "smtp": smtp.url(), "ca_file": str(ca_file)}
    crash(store, "cx-mail", spec, tmp_path)

    assert restart(store, "cx-mail", spec, tmp_path) == {"sent": 1}
    first, again = smtp.mailbox.messages
    assert first["Message-ID"] == again["Message-ID"]
    assert status(store) == [("sent", 2)]


def test_webhook_is_sent_at_most_once_more_with_the_same_delivery_id(
    store: Store, webhook: Webhook, tmp_path: Path
) -> None:
    spec = {"type": "webhook", "url": webhook.url, "secret": HOOK_SECRET}
    crash(store, "cx-hook", spec, tmp_path)

    assert restart(store, "cx-hook", spec, tmp_path) == {"sent": 1}
    first, again = webhook.received
    assert first["delivery"] == again["delivery"]


def test_a_delivery_being_sent_is_left_alone_while_its_lease_runs(
    store: Store, slack: SlackState, tmp_path: Path
) -> None:
    spec = slack_spec(slack)
    crash(store, "cx-slack", spec, tmp_path)
    notifier = notifier_from("cx-slack", spec, tmp_path)

    assert deliver(store, {"cx-slack": notifier}, now=T0 + LEASE / 2) == {}
    assert status(store) == [("sending", 1)]
