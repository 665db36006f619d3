"""``cx-agent serve`` answers the reports' feedback links when metrics.yaml says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import REPO
from tests.insight.conftest import METRICS
from tests.insight.test_links import free_port


def test_serve_starts_the_feedback_endpoint_on_localhost(home: Path) -> None:
    port = free_port()
    feedback = f'feedback: {{serve: true, port: {port}, secret: "${{CX_AGENT_FEEDBACK_SECRET}}"}}\n'
    (home / "metrics.yaml").write_text(METRICS + feedback, encoding="utf-8")
    env = os.environ | {"PYTHONPATH": str(REPO), "CX_AGENT_FEEDBACK_SECRET": "x" * 32}
    serve = subprocess.Popen(
        [sys.executable, "-m", "agent", "serve", "--every", "3600"],
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        answer = _first_answer(f"http://127.0.0.1:{port}/feedback?episode=x&label=false&token=0")
        assert answer == 403  # up, bound to localhost, and refusing a link without its token
    finally:
        serve.send_signal(signal.SIGTERM)
        _, err = serve.communicate(timeout=120)
    assert '"feedback"' in err and f"http://127.0.0.1:{port}" in err


def _first_answer(url: str, wait: float = 90.0) -> int | None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            return httpx.get(url, timeout=2).status_code
        except httpx.TransportError:
            time.sleep(0.3)
    return None
