"""The feedback endpoint on a port already taken: one clear config error, not a traceback."""

from __future__ import annotations

import socket

import pytest

from agent.errors import ConfigError
from agent.feedback import start_feedback_server
from agent.feedback.links import FeedbackSpec
from agent.store import open_store


def test_a_taken_port_is_a_config_error_naming_host_port_and_fix(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        spec = FeedbackSpec(serve=True, port=port, secret="x" * 32)
        store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
        with pytest.raises(ConfigError) as raised:
            start_feedback_server(spec, store)
        store.close()
    (line,) = raised.value.lines()
    assert f"127.0.0.1:{port}" in line
    assert "feedback.port" in line
