"""Shared fixtures: a clean environment and the cx-agent command run as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No CX_AGENT_* option or secret from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("CX_AGENT_", "SLACK_", "SMTP_")):
            monkeypatch.delenv(name)
    yield


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def cx_agent(*args: str, cwd: Path) -> Result:
    """Run ``cx-agent ARGS`` in a subprocess, as a user at a shell would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CX_AGENT_")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-m", "agent", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


DEMO_END = "2026-11-20"
"""The last day of the demo the tests run (a fixed day: the same data every time)."""


@dataclass(frozen=True)
class Inboxes:
    """A Slack Web API and an SMTP server on 127.0.0.1 that the demo alerts in too."""

    slack: Any
    """``tests.notify.servers.SlackState``."""
    mail: Any
    """``tests.notify.conftest.Mailbox``."""
    smtp_port: int

    def channels(self) -> str:
        return (
            f'  cx-slack: {{type: slack, channel: "#cx-alerts", token: "${{SLACK_BOT_TOKEN}}", '
            f'api_url: "{self.slack.base}/api/"}}\n'
            f"  cx-mail: {{type: email, to: [cx-team@example.com], "
            f'smtp: "smtp://127.0.0.1:{self.smtp_port}", from: "cx-agent <alerts@example.com>"}}\n'
        )


@pytest.fixture(scope="session")
def inboxes() -> Iterator[Inboxes]:
    # imported here: tests.notify.conftest imports this module
    from aiosmtpd.controller import Controller

    from tests.notify.conftest import Mailbox, free_port
    from tests.notify.servers import slack_server

    server, slack = slack_server()
    mailbox, port = Mailbox(), free_port()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=port)
    smtp.start()
    yield Inboxes(slack, mailbox, port)
    smtp.stop()
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, inboxes: Inboxes) -> tuple[Path, Result]:
    """The README's demo, run once for every test that reads it: its folder and output.
    Its alerts are also sent to Slack and by email (``-c notify.yaml``, the same config
    with two more channels; the other commands read ``metrics.yaml`` and need no token)."""
    from tests.notify.servers import TOKEN

    home = tmp_path_factory.mktemp("demo")
    shutil.copy(REPO / "metrics.yaml", home / "metrics.yaml")
    log = "  log: {type: files, dir: outbox, min_severity: warning}\n"
    text = (REPO / "metrics.yaml").read_text()
    assert log in text and "notify: [log]" in text
    text = text.replace(log, log + inboxes.channels())
    (home / "notify.yaml").write_text(
        text.replace("notify: [log]", "notify: [log, cx-slack, cx-mail]")
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SLACK_BOT_TOKEN", TOKEN)
        return home, cx_agent("demo", "--end", DEMO_END, "-c", "notify.yaml", cwd=home)
