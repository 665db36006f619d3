"""The notify commands as a user types them: silence, silences, unsilence, notify-test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.notify.conftest import in_process

Run = Callable[..., Result]
CONFIG = """\
version: 1
timezone: Asia/Seoul
warehouse: duckdb:///w.duckdb
channels:
  log: {type: files}
sources:
  visits: {table: events, time: event_time}
metrics:
  visits:
    title: Visits
    source: visits
    kind: count
    dimensions: [channel]
    notify: [log]
"""


@pytest.fixture
def cx_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    """``cx-agent ARGS`` in this process (the same ``main`` the console script runs)."""
    (tmp_path / "metrics.yaml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return lambda *args, cwd: in_process(monkeypatch, capsys, *args)


def test_silence_list_and_lift(tmp_path: Path, cx_agent: Run) -> None:

    made = cx_agent(
        "silence",
        "visits",
        "--segment",
        "channel=app",
        "--for",
        "24h",
        "--reason",
        "release",
        cwd=tmp_path,
    )
    listed = cx_agent("silences", cwd=tmp_path)
    lifted = cx_agent("unsilence", "1", cwd=tmp_path)
    again = cx_agent("unsilence", "1", cwd=tmp_path)
    empty = cx_agent("silences", cwd=tmp_path)
    wrong = cx_agent(
        "silence", "visits", "--segment", "tier=vip", "--for", "1d", "--reason", "x", cwd=tmp_path
    )

    assert made.code == 0, made.err
    assert made.out.startswith("silence 1: visits channel=app until ")
    assert made.out.rstrip().endswith("KST — release")
    assert listed.out.split()[:3] == ["1", "visits", "channel=app"]
    assert listed.out.rstrip().endswith("release")
    assert (lifted.code, lifted.out) == (0, "silence 1 lifted\n")
    assert again.code == 3
    assert "no silence 1 in force (see `cx-agent silences`)" in again.err
    assert empty.out == "no silences in force\n"
    assert wrong.code == 3
    assert "--segment 'tier=vip': write dimension=value with one of channel" in wrong.err


def test_notify_test_sends_a_sample_to_the_channel(tmp_path: Path, cx_agent: Run) -> None:

    sent = cx_agent("notify-test", "--channel", "log", cwd=tmp_path)
    unknown = cx_agent("notify-test", "--channel", "slack", cwd=tmp_path)

    assert sent.code == 0, sent.err
    [text] = list((tmp_path / "reports" / "outbox").glob("*/*.txt"))
    assert sent.out == f"log: test alert sent ({text})\n"
    assert text.read_text().startswith("Test · cx-agent can reach this channel\n")
    assert unknown.code == 3
    assert "no channel 'slack' in metrics.yaml; channels: log" in unknown.err
