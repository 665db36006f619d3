"""channels:, notify:, owners:, renotify: in metrics.yaml — one line per problem, secrets masked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agent.config import load_config
from agent.errors import ConfigError

HEAD = """\
version: 1
warehouse: duckdb:///w.duckdb
sources:
  visits: {table: events, time: event_time}
"""
METRIC = """\
metrics:
  visits:
    title: Visits
    source: visits
    kind: count
    notify: [cx-slak, log]
    owners: [U012AB3CD]
    renotify: {worse_by: 0.25, remind_every: 3d}
"""


def problems(tmp_path: Path, channels: str, metric: str = METRIC) -> list[str]:
    path = tmp_path / "metrics.yaml"
    path.write_text(HEAD + channels + metric)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [line.removeprefix(f"{path}:") for line in caught.value.lines()]


def test_every_channel_mistake_is_one_line_with_its_line_number(tmp_path: Path) -> None:
    channels = """\
channels:
  cx-slack: {type: slack, channel: "#cx", token: "${SLACK_BOT_TOKEN}"}
  cx-mail: {type: email, to: [cx@example.com]}
  cx-hook: {type: webhok, url: "https://example.com/h"}
  leaky: {type: email, to: [a@b.c], smtp: "smtp://me:pw@mail.example.com"}
  log: {type: files}
"""
    assert problems(tmp_path, channels) == [
        "6: channels.cx-slack.token: environment variable SLACK_BOT_TOKEN is not set"
        " — export SLACK_BOT_TOKEN=... before running cx-agent",
        "7: channels.cx-mail: needs smtp: (e.g. ${SMTP_URL}) or SMTP_URL / SMTP_HOST set",
        "8: channels.cx-hook: type: must be one of slack, email, webhook, files",
        "9: channels.leaky: smtp:// would send the password in clear text;"
        " use smtp+starttls:// or smtps://",
        "16: visits: metrics.visits.notify.0: channel 'cx-slak' is not defined"
        " — did you mean 'cx-slack'?",
    ]


def test_channels_load_with_secrets_masked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env-secret")
    monkeypatch.setenv("SMTP_URL", "smtps://bot:mail-secret@mail.example.com")
    channels = """\
channels:
  cx-slak: {type: slack, channel: "#cx", token: "${SLACK_BOT_TOKEN}", min_severity: critical}
  log: {type: files}
  cx-mail: {type: email, to: [cx@example.com]}
"""
    path = tmp_path / "metrics.yaml"
    path.write_text(HEAD + channels + METRIC)

    config = load_config(path)

    assert config.channels["cx-slak"].min_severity == "critical"
    assert config.channels["cx-mail"].target.port == 465
    spec = config.metrics["visits"]
    assert (spec.notify, spec.owners) == (["cx-slak", "log"], ["U012AB3CD"])
    assert spec.renotify.remind_every == timedelta(days=3)
    shown = repr(config) + str(config.model_dump())
    assert "xoxb-from-env-secret" not in shown and "mail-secret" not in shown
