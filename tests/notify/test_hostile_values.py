"""Segment values nobody at the team wrote, through a real run to every channel.

The warehouse's channel column holds ``app\\u202egnp.exe\\u202c`` (a right-to-left override
that shows it as "appexe.png") and a value of 100 KB, and both jump. One ``run --once``
alerts Slack (the local Slack API server), email (the local SMTP server), a webhook and
the files channel, and writes the reports. No output may hold a raw control character,
no segment value may be longer than 200 characters, and no Slack text may be longer
than Slack accepts. The metric's title, escaped in metrics.yaml, holds an override too.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from tests.conftest import cx_agent
from tests.insight.conftest import METRICS as INSIGHT_METRICS
from tests.notify.conftest import HOOK_SECRET, SMTPServer
from tests.notify.servers import TOKEN, SlackState, Webhook

SPOOF = "app\u202egnp.exe\u202c"
LONG = "x" * 100_000
FIRST, ONSET, LAST = date(2025, 11, 10), date(2026, 3, 15), date(2026, 3, 19)
FORBIDDEN = {chr(c) for c in (0, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}

# the insight tests' support contacts, alerting every kind of channel
CHANNELS = """\
reports: {dir: reports, base_url: "https://reports.example.com/cx/"}
channels:
  cx-slack: {type: slack, channel: "#cx-alerts", token: "${SLACK_BOT_TOKEN}", api_url: "%s/api/"}
  cx-mail: {type: email, to: [cx@example.com], smtp: "%s", ca_file: "%s"}
  hook: {type: webhook, url: "%s", secret: "${CX_HOOK_SECRET}"}
  log: {type: files, min_severity: info}
"""
METRICS = INSIGHT_METRICS.replace("sources:", CHANNELS + "sources:").replace(
    "title: Support contacts", 'title: "Support \\u202econtacts\\0"'
)  # a title with an override and a NUL, written as YAML escapes
METRICS += "    notify: [cx-slack, cx-mail, hook, log]\n"


def write_warehouse(path: Path) -> None:
    """Contacts a day by channel: steady, then from ONSET 200 more in each hostile one."""
    rng = np.random.default_rng(5)
    rows = []
    for day in pd.date_range(FIRST, LAST, freq="D"):
        extra = 200 if day.date() >= ONSET else 0
        for channel, mean in (("phone", 600), (SPOOF, 200 + extra), (LONG, 200 + extra)):
            n = int(rng.poisson(mean))
            seconds = rng.integers(0, 86_400, n).astype("timedelta64[s]")
            rows.append(pd.DataFrame({"contact_time": day + seconds, "channel": channel}))
    frame = pd.concat(rows, ignore_index=True)
    frame["contact_time"] = frame["contact_time"].astype("datetime64[us]")
    with duckdb.connect(str(path)) as con:
        con.register("frame", frame)
        con.execute("CREATE TABLE contacts AS SELECT * FROM frame")


def texts(value: Any) -> list[str]:
    """Every string inside a JSON-like value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    return []


def slack_limits(message: dict[str, Any]) -> list[int]:
    """How far over Slack's limit each text of the message's blocks is (<= 0: within)."""
    over = []
    for block in message.get("blocks") or []:
        if block["type"] == "header":
            over.append(len(block["text"]["text"]) - 150)
        if block["type"] == "section" and "text" in block:
            over.append(len(block["text"]["text"]) - 3000)
        over += [len(f["text"]) - 2000 for f in block.get("fields", [])]
        over += [len(e.get("text", "")) - 2000 for e in block.get("elements", [])]
    return over


@pytest.fixture
def home(tmp_path: Path) -> Path:
    write_warehouse(tmp_path / "warehouse.duckdb")
    return tmp_path


def test_control_characters_and_long_values_never_reach_a_person(
    home: Path,
    slack: SlackState,
    smtp: SMTPServer,
    webhook: Webhook,
    ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("CX_HOOK_SECRET", HOOK_SECRET)
    config = METRICS % (slack.base, smtp.url(), ca_file, webhook.url)
    (home / "metrics.yaml").write_text(config, encoding="utf-8")

    result = cx_agent("run", "--once", "--as-of", LAST.isoformat(), cwd=home)
    assert result.code in (1, 2), result.err

    files = [
        p for p in (home / "reports").rglob("*") if p.suffix in {".html", ".md", ".json", ".txt"}
    ]
    outputs = {str(p.relative_to(home)): p.read_text(encoding="utf-8") for p in files}
    for i, mail in enumerate(smtp.mailbox.messages):
        outputs[f"mail {i} subject"] = str(mail["Subject"])
        for part in mail.walk():
            if part.get_content_maintype() == "text":
                outputs[f"mail {i} {part.get_content_type()}"] = part.get_content()
    for i, message in enumerate(slack.messages):
        outputs[f"slack {i}"] = "\n".join(texts(message))
    for i, delivery in enumerate(webhook.received):
        outputs[f"webhook {i}"] = "\n".join(texts(delivery["body"]))

    report = json.loads(next(v for k, v in outputs.items() if k.endswith("support_contacts.json")))
    causes = [c["segment"].get("channel") for f in report["findings"] for c in f["causes"]]
    assert "appgnp.exe" in causes and "x" * 199 + "…" in causes  # both alerted, as shown
    assert smtp.mailbox.messages and slack.messages and webhook.received
    assert any(k.startswith("reports/outbox") for k in outputs)

    for name, text in outputs.items():
        assert not FORBIDDEN & set(text), f"a control character in {name}"
        assert "x" * 201 not in text, f"a segment value over 200 characters in {name}"
    for message in slack.messages:
        assert max(slack_limits(message)) <= 0
