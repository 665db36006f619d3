"""A recorded run's alerts through agent.pipeline.deliver: built, routed, recorded, sent once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent.config import load_config
from agent.pipeline.deliver import notify_run
from agent.store import Store
from agent.store.schema import deliveries
from tests.notify.conftest import SMTPServer
from tests.notify.servers import TOKEN, SlackState
from tests.notify.test_alert import PERIOD, with_episode
from tests.report import XSS, report_input

CONFIG = """\
version: 1
warehouse: duckdb:///w.duckdb
reports: {dir: reports, base_url: "https://reports.example.com/cx/"}
channels:
  cx-slack: {type: slack, channel: "#cx-alerts", token: "${SLACK_BOT_TOKEN}", api_url: "%s/api/"}
  log: {type: files, min_severity: info}
  quiet: {type: files, dir: quiet}
sources:
  visits: {table: events, time: event_time, entity: customer_id}
metrics:
  revisit_rate:
    title: Revisit rate
    source: visits
    kind: returning
    lookback: 7d
    notify: [cx-slack, log]
    owners: [U012AB3CD]
"""


def test_a_run_alerts_each_of_its_channels_once(
    tmp_path: Path, store: Store, slack: SlackState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    (tmp_path / "metrics.yaml").write_text(CONFIG % slack.base)
    config = load_config(tmp_path / "metrics.yaml")
    reports = tmp_path / "reports"
    inp = with_episode(report_input(PERIOD))

    for _ in range(2):  # the same period run twice
        notify_run(store, config, inp, "2024-03-01/revisit_rate.html", reports)

    [posted] = slack.messages
    assert posted["text"] == "New alert: Critical · Revisit rate ↓ 4.1 pts"
    assert (
        "<https://reports.example.com/cx/2024-03-01/revisit_rate.html|Open the report>"
        in (posted["blocks"][-1]["elements"][0]["text"])
    )
    assert slack.uploads[0]["bytes"].startswith(b"\x89PNG")  # the report's chart
    assert len(list(reports.glob("outbox/2024-03-01/*.txt"))) == 1
    assert not (reports / "quiet").exists()  # not in the metric's notify: list
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar() == 2


def test_a_metric_without_notify_sends_nothing(tmp_path: Path, store: Store) -> None:
    (tmp_path / "metrics.yaml").write_text(
        (CONFIG % "http://127.0.0.1:1")
        .replace("    notify: [cx-slack, log]\n", "")
        .replace('token: "${SLACK_BOT_TOKEN}"', 'token: "unused"')
    )
    config = load_config(tmp_path / "metrics.yaml")

    notify_run(store, config, with_episode(report_input(PERIOD)), None, tmp_path / "reports")

    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar() == 0


HOSTILE = """\
version: 1
warehouse: duckdb:///w.duckdb
channels:
  cx-slack: {type: slack, channel: "#cx-alerts", token: "${SLACK_BOT_TOKEN}", api_url: "%s/api/"}
  cx-mail: {type: email, to: [cx@example.com], smtp: "%s", ca_file: "%s"}
sources:
  visits: {table: events, time: event_time, entity: customer_id}
metrics:
  revisit_rate:
    title: Revisit rate
    source: visits
    kind: returning
    lookback: 7d
    notify: [cx-slack, cx-mail]
"""


def test_hostile_segment_values_are_escaped_in_every_channel(
    tmp_path: Path,
    store: Store,
    slack: SlackState,
    smtp: SMTPServer,
    ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    (tmp_path / "metrics.yaml").write_text(HOSTILE % (slack.base, smtp.url(), ca_file))
    config = load_config(tmp_path / "metrics.yaml")
    inp = with_episode(report_input(PERIOD, title="Revisit\r\nBcc: victim@example.com <!channel>"))

    notify_run(store, config, inp, None, tmp_path / "reports")

    [mail] = smtp.mailbox.messages
    html = mail.get_body(("html",))
    assert mail["Bcc"] is None and "\n" not in mail["Subject"].strip()
    assert html is not None and XSS not in html.get_content()
    assert "&lt;script&gt;" in html.get_content()
    posted = json.dumps(slack.messages, ensure_ascii=False)
    assert XSS not in posted and "<!channel>" not in posted
    assert "region=&lt;script&gt;alert(1)&lt;/script&gt;" in posted
