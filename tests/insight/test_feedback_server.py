"""The feedback endpoint against hostile clients, on a real socket: malformed lengths,
oversized bodies, clients that trickle bytes, replays, and what the answer reveals."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from agent.feedback import FeedbackSpec, feedback_links, start_feedback_server
from agent.store import Store, open_store
from agent.store.schema import feedback
from tests.insight.test_feedback import add_episode
from tests.insight.test_links import SECRET, free_port

DEADLINE = 2.0
"""The test server's connection deadline (the default is 10 s)."""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[FeedbackSpec, Store]]:
    store = open_store("sqlite:///state.db", base_dir=tmp_path)
    spec = FeedbackSpec(serve=True, secret=SECRET, port=free_port())
    server = start_feedback_server(spec, store, deadline=DEADLINE)
    yield spec, store
    server.shutdown()
    store.close()


def verdicts(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(feedback)).scalar_one())


def raw_request(spec: FeedbackSpec, head: str, body: bytes = b"") -> tuple[bytes, int]:
    """Send ``head``, read the answer, then try to send ``body``: the answer and how many
    bytes of the body the server took before closing (the socket's buffers hold ~MBs)."""
    with socket.create_connection((spec.host, spec.port), timeout=10) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        sent = 0
        try:
            while sent < len(body):
                sent += conn.send(body[sent : sent + 65536])
        except OSError:  # closed by the server
            pass
    return answer, sent


def form_of(spec: FeedbackSpec, store: Store, label: str = "false") -> dict[str, str]:
    link = feedback_links(spec, add_episode(store, datetime(2026, 2, 2), 1300, 1000))[label]
    return {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}


def test_a_negative_content_length_is_refused_and_its_body_not_stored(
    served: tuple[FeedbackSpec, Store],
) -> None:
    spec, store = served
    form = urlencode(form_of(spec, store) | {"note": "x" * 5_000_000}).encode()
    head = "POST /feedback HTTP/1.1\nHost: x\nContent-Length: -1\nConnection: close\n"
    answer, sent = raw_request(spec, head, form)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert sent < len(form)  # the connection was closed before 5 MB could follow
    assert verdicts(store) == 0


def test_a_body_over_the_limit_is_refused_unread(served: tuple[FeedbackSpec, Store]) -> None:
    spec, store = served
    form = form_of(spec, store) | {"note": "x" * 5_000_000}
    answer = httpx.post(f"{spec.url}/feedback", data=form, timeout=10)
    assert answer.status_code == 413
    assert verdicts(store) == 0


def test_a_content_length_that_is_not_a_number_is_a_400_and_the_server_goes_on(
    served: tuple[FeedbackSpec, Store],
) -> None:
    spec, store = served
    head = "POST /feedback HTTP/1.1\nHost: x\nContent-Length: abc\nConnection: close\n"
    assert raw_request(spec, head)[0].startswith(b"HTTP/1.1 400 ")
    assert httpx.get(f"{spec.url}/feedback?episode=x&label=false&token=0").status_code == 403


def test_clients_sending_a_byte_a_second_are_cut_off_at_the_deadline(
    served: tuple[FeedbackSpec, Store],
) -> None:
    spec, _ = served
    request = b"GET /feedback?episode=x&label=false&token=0 HTTP/1.1\r\nHost: x\r\n\r\n"
    slow = [socket.create_connection((spec.host, spec.port)) for _ in range(4)]
    for conn in slow:
        conn.setblocking(False)
    started, closed_after = time.monotonic(), {}
    try:
        for i in range(int(DEADLINE * 4)):
            for n, conn in enumerate(slow):
                if n in closed_after:
                    continue
                try:
                    conn.sendall(request[i : i + 1])
                    if conn.recv(1024) == b"":
                        closed_after[n] = time.monotonic() - started
                except BlockingIOError:
                    pass
                except OSError:  # reset by the server
                    closed_after[n] = time.monotonic() - started
            if len(closed_after) == len(slow):
                break
            time.sleep(0.5)
        # meanwhile, a normal client is answered
        assert httpx.get(f"{spec.url}/feedback?episode=x&label=false&token=0").status_code == 403
    finally:
        for conn in slow:
            conn.close()
    assert sorted(closed_after) == [0, 1, 2, 3]
    assert all(DEADLINE - 0.5 <= after <= DEADLINE + 2 for after in closed_after.values())


def test_the_same_verdict_sent_twice_is_recorded_once(served: tuple[FeedbackSpec, Store]) -> None:
    spec, store = served
    form = form_of(spec, store) | {"note": "loyalty mailing"}
    first = httpx.post(f"{spec.url}/feedback", data=form)
    again = httpx.post(f"{spec.url}/feedback", data=form)
    assert first.status_code == again.status_code == 200
    assert first.text == again.text and "recorded" in first.text
    assert verdicts(store) == 1


def test_answers_carry_no_server_banner(served: tuple[FeedbackSpec, Store]) -> None:
    spec, store = served
    for answer in (
        httpx.get(f"{spec.url}/feedback?episode=x&label=false&token=0"),
        httpx.get(f"{spec.url}/elsewhere"),
        httpx.post(f"{spec.url}/feedback", data=form_of(spec, store)),
    ):
        assert "server" not in answer.headers
        assert "python" not in answer.text.lower() and "uvicorn" not in answer.text.lower()


def test_a_note_loses_its_control_characters(served: tuple[FeedbackSpec, Store]) -> None:
    spec, store = served
    form = form_of(spec, store) | {"note": "promo\x00 \u202ecod.exe\u202c mailing"}
    assert httpx.post(f"{spec.url}/feedback", data=form).status_code == 200
    with store.engine.connect() as conn:
        (note,) = conn.execute(select(feedback.c.note)).one()
    assert note == "promo cod.exe mailing"
