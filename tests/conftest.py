"""Shared fixtures: a clean environment and the cx-agent command run as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """The README's demo, run once for every test that reads it: its folder and output."""
    home = tmp_path_factory.mktemp("demo")
    shutil.copy(REPO / "metrics.yaml", home / "metrics.yaml")
    return home, cx_agent("demo", "--end", DEMO_END, cwd=home)
