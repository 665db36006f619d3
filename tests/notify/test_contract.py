"""Rules every registered notifier keeps, run over all of NOTIFIERS against real local
receivers (a Slack-API server, an SMTP server, a webhook receiver, a folder)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from agent.model import Severity
from agent.notify import NOTIFIERS, Decision, Notice, Notifier, RunBody, build_notifier
from agent.notify.base import Item
from tests.notify.conftest import HOOK_SECRET, SMTPServer, alert
from tests.notify.servers import TOKEN, SlackState, Webhook

BODY = RunBody("[warning] Revisit rate fell", "<p>report</p>", "report", {}, {"a": 1})


def _slack(request: pytest.FixtureRequest) -> tuple[dict[str, Any], Callable[[], int]]:
    slack: SlackState = request.getfixturevalue("slack")
    spec = {"type": "slack", "channel": "#cx-alerts", "token": TOKEN, "timeout": 1.0}
    return spec | {"api_url": f"{slack.base}/api/"}, lambda: len(slack.messages)


def _email(request: pytest.FixtureRequest) -> tuple[dict[str, Any], Callable[[], int]]:
    smtp: SMTPServer = request.getfixturevalue("smtp")
    ca_file: Path = request.getfixturevalue("ca_file")
    spec = {"type": "email", "to": ["cx-team@example.com"], "smtp": smtp.url()}
    return spec | {"ca_file": str(ca_file)}, lambda: len(smtp.mailbox.messages)


def _webhook(request: pytest.FixtureRequest) -> tuple[dict[str, Any], Callable[[], int]]:
    hook: Webhook = request.getfixturevalue("webhook")
    spec = {"type": "webhook", "url": hook.url, "secret": HOOK_SECRET, "timeout": 1}
    return spec, lambda: len(hook.received)


def _files(request: pytest.FixtureRequest) -> tuple[dict[str, Any], Callable[[], int]]:
    folder: Path = request.getfixturevalue("tmp_path") / "outbox"
    return {"type": "files"}, lambda: len(list(folder.rglob("*.txt")))


RECEIVERS = {"slack": _slack, "email": _email, "webhook": _webhook, "files": _files}
"""Per channel type, its options pointed at a local receiver and a count of what arrived."""


def test_every_notifier_has_a_receiver_here() -> None:
    assert set(RECEIVERS) == set(NOTIFIERS)
    assert all(cls.kind == kind for kind, cls in NOTIFIERS.items())


def built(kind: str, request: pytest.FixtureRequest) -> tuple[Notifier, Callable[[], int]]:
    options, arrived = RECEIVERS[kind](request)
    spec = NOTIFIERS[kind].spec_type.model_validate(options)
    notifier = build_notifier("cx-team", spec, base_dir=request.getfixturevalue("tmp_path"))
    return notifier, arrived


@pytest.mark.parametrize("kind", NOTIFIERS)
def test_options_name_their_type_and_refuse_unknown_keys(kind: str) -> None:
    spec_type = NOTIFIERS[kind].spec_type
    assert get_args(spec_type.model_fields["type"].annotation) == (kind,)
    assert "min_severity" in spec_type.model_fields
    with pytest.raises(ValidationError, match="misspelt"):
        spec_type.model_validate({"type": kind, "misspelt": 1})


@pytest.mark.parametrize("kind", NOTIFIERS)
def test_a_notice_arrives_once_and_a_found_one_is_the_sent_one(
    kind: str, request: pytest.FixtureRequest
) -> None:
    notifier, arrived = built(kind, request)
    assert isinstance(notifier, NOTIFIERS[kind]) and notifier.channel == "cx-team"
    notice = Notice("k1", [Item(Decision.NEW, alert(severity=Severity.WARNING))], BODY)

    ref = notifier.send(notice)

    assert ref.channel == "cx-team" and ref.external_id
    assert arrived() == 1
    found = notifier.find(notice)
    assert found is None or found == ref  # None: the channel cannot tell, the outbox resends
